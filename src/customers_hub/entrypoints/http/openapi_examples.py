"""The request examples of the OpenAPI document (step 5 of :mod:`.openapi`): drawn from the API
document, with dates relative to the moment the document is served."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, Final

__all__ = ["OPERATION_EXAMPLES", "PATH_EXAMPLES"]


def _at(days: int, hour: int = 10) -> str:
    moment = (datetime.now(UTC) + timedelta(days=days)).replace(
        hour=hour, minute=0, second=0, microsecond=0
    )
    return moment.isoformat().replace("+00:00", "Z")


def _day(days: int) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).date().isoformat()


_CUSTOMER: Final[Mapping[str, Any]] = {
    "name": "عبدالله الشمري",
    "nameEn": "Abdullah Al-Shammari",
    "phone": "+966551234567",
    "whatsapp": "+966551234567",
    "email": "abdullah@email.com",
    "nationality": "Saudi",
    "gender": "male",
    "source": "whatsapp",
    "sourceDetails": {"campaign": "ramadan_2024", "utmSource": "instagram"},
    "preferences": {
        "propertyType": ["apartment"],
        "budgetMin": 800000,
        "budgetMax": 1200000,
        "preferredAreas": ["جدة - حي الزهراء"],
        "bedrooms": 3,
        "purpose": "residence",
        "timeline": "immediate",
    },
    "priority": "high",
    "tags": ["first_time_buyer"],
    "city": "جدة",
}

OPERATION_EXAMPLES: Final[Mapping[str, Callable[[], Any]]] = {
    "createCustomer": lambda: dict(_CUSTOMER),
    "updateCustomer": lambda: {
        "email": "abdullah.new@email.com",
        "priority": "urgent",
        "preferences": {"budgetMax": 1500000},
        "tags": ["first_time_buyer", "vip"],
    },
    "changeCustomerStage": lambda: {
        "toStage": "qualified",
        "notes": "تم التأكد من الميزانية",
        "reason": "budget_confirmed",
    },
    "assignCustomer": lambda: {
        "employeeId": "emp_001",
        "notes": "نقل العميل لأحمد لخبرته في منطقة جدة",
    },
    "queryCustomers": lambda: {
        "filters": {"stage": {"in": ["qualified", "negotiation"]}, "leadScore": {"gte": 70}},
        "sort": {"field": "leadScore", "order": "desc"},
        "limit": 20,
        "cursor": None,
    },
    "searchCustomers": lambda: {"query": "احمد", "fuzzy": True, "limit": 5},
    "createAction": lambda: {
        "customerId": "cust_001",
        "type": "follow_up",
        "title": "متابعة بعد إرسال العروض",
        "description": "الاتصال بالعميل للحصول على تعليقه على العروض المرسلة",
        "priority": "high",
        "dueDate": _at(2),
        "assignedTo": "emp_001",
    },
    "updateAction": lambda: {
        "priority": "urgent",
        "dueDate": _at(1, 16),
        "assignedTo": "emp_003",
        "notes": "العميل طلب الاتصال قبل نهاية اليوم",
    },
    "completeAction": lambda: {
        "outcome": "تم إرسال العروض بنجاح والعميل مهتم بعقارين",
        "notes": "جدولة معاينة للعقارين يوم الخميس",
    },
    "dismissAction": lambda: {
        "reason": "العميل لم يعد مهتماً",
        "notes": "اشترى عقاراً من جهة أخرى",
    },
    "snoozeAction": lambda: {
        "snoozedUntil": _at(3, 9),
        "notes": "العميل في سفر، سيعود يوم الخميس",
    },
    "addActionNote": lambda: {"content": "العميل طلب معلومات إضافية عن خيارات التمويل"},
    "bulkUpdateActions": lambda: {
        "actionIds": ["action_001", "action_002", "action_003"],
        "operation": "update",
        "updates": {"priority": "high", "assignedTo": "emp_002"},
    },
    "bulkCompleteActions": lambda: {
        "actionIds": ["action_001", "action_002"],
        "outcome": "تم التواصل مع جميع العملاء",
    },
    "bulkDismissActions": lambda: {
        "actionIds": ["action_004", "action_005"],
        "reason": "طلبات مكررة",
    },
    "bulkSnoozeActions": lambda: {
        "actionIds": ["action_006", "action_007"],
        "snoozedUntil": _at(7, 9),
    },
    "bulkAssignActions": lambda: {
        "actionIds": ["action_001", "action_002", "action_003"],
        "assignedTo": "emp_002",
    },
    "addPropertyInterest": lambda: {
        "propertyId": "prop_villa_012",
        "status": "interested",
        "notes": "أعجبته الفيلا ويرغب بمعاينتها",
    },
    "updatePropertyInterestStatus": lambda: {"status": "viewed"},
    "logInteraction": lambda: {
        "type": "call",
        "direction": "outbound",
        "duration": 15,
        "notes": "العميل مهتم بالفلل في حي النرجس",
        "outcome": "جدولة معاينة",
        "sentiment": "positive",
        "followUpRequired": True,
        "followUpDate": _at(2),
    },
    "scheduleAppointment": lambda: {
        "title": "معاينة فيلا النرجس",
        "titleEn": "Narjis villa viewing",
        "type": "site_visit",
        "datetime": _at(4, 13),
        "duration": 60,
        "location": "الرياض - حي النرجس",
        "priority": "high",
        "notes": "إحضار المخططات",
    },
    "updateAppointment": lambda: {"status": "confirmed", "notes": "أكد العميل الموعد"},
    "addReminder": lambda: {
        "title": "الاتصال بالعميل بخصوص التمويل",
        "datetime": _at(2, 9),
        "type": "follow_up",
        "priority": "medium",
        "description": "التأكد من موافقة البنك المبدئية",
    },
    "createEmployee": lambda: {
        "id": "emp_004",
        "name": "سارة القحطاني",
        "nameEn": "Sarah Al-Qahtani",
        "email": "sarah@company.com",
        "phone": "+966503334444",
        "role": "sales_agent",
        "title": "Sales Agent",
        "managerId": "emp_002",
    },
    "updateEmployee": lambda: {"title": "Senior Sales Agent", "isActive": True},
    "updateOrganizationSettings": lambda: {"timeZone": "Asia/Riyadh", "requireFalLicence": True},
    "createWebhook": lambda: {
        "url": "https://hooks.example.com/customers-hub",
        "events": ["customer.created", "customer.stage_changed", "action.created"],
        "description": "مزامنة نظام التسويق",
    },
    "updateWebhook": lambda: {"events": ["*"], "isActive": True},
    "mergeCustomers": lambda: {"sourceIds": ["cust_002"], "fields": {"email": "cust_002"}},
    "unmergeCustomers": lambda: {"mergeId": "merge_001"},
    "updateCustomerConsents": lambda: {
        "consents": [
            {"channel": "whatsapp", "granted": True, "source": "web_form"},
            {"channel": "marketing", "granted": False, "source": "call", "notes": "طلب العميل"},
        ]
    },
    "createPrivacyRequest": lambda: {
        "customerId": "cust_001",
        "type": "access",
        "notes": "طلب نسخة من البيانات عبر البريد",
    },
    "updatePrivacyRequestStatus": lambda: {"status": "in_progress"},
    "extendPrivacyRequest": lambda: {"reason": "بانتظار مستندات الهوية", "days": 30},
    "eraseCustomer": lambda: {"reason": "طلب حذف البيانات"},
    "createAssignmentRule": lambda: {
        "name": "عملاء الرياض",
        "strategy": "round_robin",
        "employeeIds": ["emp_001", "emp_004"],
        "match": {"sources": ["whatsapp"], "cities": ["الرياض"]},
        "priority": 1,
    },
    "updateAssignmentRule": lambda: {"active": False},
    "startCustomerImport": lambda: {
        "file": "name,phone,city\r\nعبدالله الشمري,0551234567,الرياض\r\n",
        "dryRun": "true",
        "onDuplicate": "skip",
    },
    "uploadDocument": lambda: {
        "file": "%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n",
        "name": "صورة الهوية الوطنية",
        "type": "id_copy",
        "description": "نسخة من الهوية",
        "tags": ["kyc"],
    },
}
"""Request body examples by ``operationId`` (built when the document is served)."""

PATH_EXAMPLES: Final[Mapping[str, str]] = {
    "customer_id": "cust_001",
    "action_id": "action_001",
    "employee_id": "emp_001",
    "appointment_id": "appt_001",
    "reminder_id": "rem_001",
    "interest_id": "pi_001",
    "document_id": "doc_001",
}

"""Path parameter examples by parameter name."""
