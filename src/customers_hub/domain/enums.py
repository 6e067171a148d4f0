"""Every enumeration of the API document, with Arabic and English labels where the API shows them.

Each enum's value is the wire value (snake_case as in the API document). ``label`` is the Arabic
label and ``label_en`` the English one, as the filter-options endpoint returns them.
"""

from __future__ import annotations

from enum import StrEnum


class LabelledEnum(StrEnum):
    """A string enum whose members carry an Arabic and an English label."""

    @property
    def label(self) -> str:
        """The Arabic label."""
        return _LABELS[(type(self), self.value)][0]

    @property
    def label_en(self) -> str:
        """The English label."""
        return _LABELS[(type(self), self.value)][1]


class Stage(LabelledEnum):
    """The nine lifecycle stages, in order (rules §1)."""

    NEW_LEAD = "new_lead"
    QUALIFIED = "qualified"
    PROPERTY_MATCHING = "property_matching"
    SITE_VISIT = "site_visit"
    NEGOTIATION = "negotiation"
    CONTRACT_PREP = "contract_prep"
    DOWN_PAYMENT = "down_payment"
    CLOSING = "closing"
    POST_SALE = "post_sale"

    @property
    def rank(self) -> int:
        """Position in the lifecycle, 0 for ``new_lead`` up to 8 for ``post_sale``."""
        return _STAGE_ORDER.index(self)


_STAGE_ORDER: tuple[Stage, ...] = tuple(Stage)


class CustomerSource(LabelledEnum):
    """Where a customer (or an action) came from."""

    INQUIRY = "inquiry"
    MANUAL = "manual"
    WHATSAPP = "whatsapp"
    IMPORT = "import"
    REFERRAL = "referral"


class Priority(LabelledEnum):
    """Priority of a customer or action; ``rank`` orders it (urgent highest), never the alphabet."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    URGENT = "urgent"

    @property
    def rank(self) -> int:
        """0 for ``low`` up to 3 for ``urgent``."""
        return _PRIORITY_ORDER.index(self)


_PRIORITY_ORDER: tuple[Priority, ...] = tuple(Priority)


class ActionType(LabelledEnum):
    """Kinds of inbox actions."""

    NEW_INQUIRY = "new_inquiry"
    CALLBACK_REQUEST = "callback_request"
    PROPERTY_MATCH = "property_match"
    FOLLOW_UP = "follow_up"
    DOCUMENT_REQUIRED = "document_required"
    PAYMENT_DUE = "payment_due"
    SITE_VISIT = "site_visit"
    WHATSAPP_INCOMING = "whatsapp_incoming"
    AI_RECOMMENDED = "ai_recommended"


class ActionStatus(LabelledEnum):
    """Statuses of an inbox action (rules §2)."""

    PENDING = "pending"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    DISMISSED = "dismissed"
    SNOOZED = "snoozed"

    @property
    def is_terminal(self) -> bool:
        """Completed and dismissed absorb: nothing moves out of them."""
        return self in (ActionStatus.COMPLETED, ActionStatus.DISMISSED)


class DueDateBucket(LabelledEnum):
    """The due-date filter of the actions list (rules §2)."""

    OVERDUE = "overdue"
    TODAY = "today"
    WEEK = "week"
    NO_DATE = "no_date"


class PropertyType(LabelledEnum):
    """Property types a customer looks for or a property is."""

    VILLA = "villa"
    APARTMENT = "apartment"
    LAND = "land"
    COMMERCIAL = "commercial"
    DUPLEX = "duplex"
    TOWNHOUSE = "townhouse"
    BUILDING = "building"
    OFFICE = "office"


class PropertyInterestStatus(LabelledEnum):
    """Status of a customer's interest in one property (rules §1)."""

    INTERESTED = "interested"
    VIEWED = "viewed"
    SHORTLISTED = "shortlisted"
    OFFER_MADE = "offer_made"
    REJECTED = "rejected"
    PURCHASED = "purchased"


class InteractionType(LabelledEnum):
    """Channels of a logged interaction."""

    CALL = "call"
    WHATSAPP = "whatsapp"
    EMAIL = "email"
    SMS = "sms"
    MEETING = "meeting"
    SITE_VISIT = "site_visit"
    NOTE = "note"


class InteractionDirection(LabelledEnum):
    """Who started an interaction."""

    INBOUND = "inbound"
    OUTBOUND = "outbound"


class Sentiment(LabelledEnum):
    """Sentiment of an interaction as the agent judged it."""

    POSITIVE = "positive"
    NEUTRAL = "neutral"
    NEGATIVE = "negative"


class AppointmentType(LabelledEnum):
    """Kinds of appointments."""

    SITE_VISIT = "site_visit"
    MEETING = "meeting"
    CALL = "call"
    VIDEO_CALL = "video_call"
    CONTRACT_SIGNING = "contract_signing"
    HANDOVER = "handover"
    OTHER = "other"


class AppointmentStatus(LabelledEnum):
    """Statuses of an appointment."""

    SCHEDULED = "scheduled"
    CONFIRMED = "confirmed"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    NO_SHOW = "no_show"
    RESCHEDULED = "rescheduled"


class ReminderType(LabelledEnum):
    """Kinds of reminders."""

    FOLLOW_UP = "follow_up"
    CALL = "call"
    MEETING = "meeting"
    DOCUMENT = "document"
    PAYMENT = "payment"
    OTHER = "other"


class ReminderStatus(LabelledEnum):
    """Statuses of a reminder."""

    PENDING = "pending"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class DocumentType(LabelledEnum):
    """Kinds of customer documents."""

    ID_COPY = "id_copy"
    PASSPORT = "passport"
    CONTRACT = "contract"
    EJAR_CONTRACT = "ejar_contract"
    PROOF_OF_INCOME = "proof_of_income"
    BANK_STATEMENT = "bank_statement"
    MORTGAGE_PRE_APPROVAL = "mortgage_pre_approval"
    PAYMENT_RECEIPT = "payment_receipt"
    TITLE_DEED = "title_deed"
    OTHER = "other"


class Role(LabelledEnum):
    """Roles of the JWT ``role`` claim (rules §4)."""

    ADMIN = "admin"
    SALES_MANAGER = "sales_manager"
    SALES_AGENT = "sales_agent"
    VIEWER = "viewer"


class Permission(LabelledEnum):
    """Permissions of the JWT ``permissions`` claim (rules §4): exactly the API document's five.

    Employees are read by every member and managed by admins, decided by the role alone.
    """

    CUSTOMERS_READ = "customers.read"
    CUSTOMERS_WRITE = "customers.write"
    CUSTOMERS_DELETE = "customers.delete"
    ACTIONS_READ = "actions.read"
    ACTIONS_WRITE = "actions.write"


class Gender(LabelledEnum):
    """Gender as the API document gives it."""

    MALE = "male"
    FEMALE = "female"


class Purpose(LabelledEnum):
    """What the customer wants the property for."""

    BUY = "buy"
    RENT = "rent"
    INVEST = "invest"


class Timeline(LabelledEnum):
    """How soon the customer intends to act; ``urgency`` orders it (immediate highest)."""

    IMMEDIATE = "immediate"
    ONE_TO_THREE_MONTHS = "1-3months"
    THREE_TO_SIX_MONTHS = "3-6months"
    SIX_TO_TWELVE_MONTHS = "6-12months"
    MORE_THAN_YEAR = "12+months"

    @property
    def urgency(self) -> int:
        """4 for ``immediate`` down to 0 for ``12+months``."""
        return len(_TIMELINE_ORDER) - 1 - _TIMELINE_ORDER.index(self)


_TIMELINE_ORDER: tuple[Timeline, ...] = tuple(Timeline)


class Furnishing(LabelledEnum):
    """Furnishing preference."""

    FURNISHED = "furnished"
    SEMI_FURNISHED = "semi_furnished"
    UNFURNISHED = "unfurnished"


class CustomerType(LabelledEnum):
    """Kind of customer."""

    INDIVIDUAL = "individual"
    COMPANY = "company"
    INVESTOR = "investor"
    GOVERNMENT = "government"


class ChurnRisk(LabelledEnum):
    """Churn risk of the insights."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class EngagementLevel(LabelledEnum):
    """Engagement level of the insights."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class PaymentFrequency(LabelledEnum):
    """Rent payment frequency of an EJAR contract."""

    MONTHLY = "monthly"
    QUARTERLY = "quarterly"
    SEMI_ANNUAL = "semi_annual"
    ANNUAL = "annual"


class PropertyStatus(LabelledEnum):
    """Status of a property in the catalog."""

    AVAILABLE = "available"
    RESERVED = "reserved"
    SOLD = "sold"
    RENTED = "rented"


# Rows, not a dict literal: StrEnum members of different enums with one value (Stage.SITE_VISIT,
# ActionType.SITE_VISIT) compare equal, so they must be keyed by (enum class, value).
_LABEL_ROWS: tuple[tuple[LabelledEnum, tuple[str, str]], ...] = (
    (Stage.NEW_LEAD, ("عميل جديد", "New Lead")),
    (Stage.QUALIFIED, ("مؤهل", "Qualified")),
    (Stage.PROPERTY_MATCHING, ("مطابقة العقارات", "Property Matching")),
    (Stage.SITE_VISIT, ("معاينة", "Site Visit")),
    (Stage.NEGOTIATION, ("تفاوض", "Negotiation")),
    (Stage.CONTRACT_PREP, ("إعداد العقد", "Contract Preparation")),
    (Stage.DOWN_PAYMENT, ("الدفعة الأولى", "Down Payment")),
    (Stage.CLOSING, ("إغلاق الصفقة", "Closing")),
    (Stage.POST_SALE, ("ما بعد البيع", "Post-Sale")),
    (CustomerSource.INQUIRY, ("استفسار", "Inquiry")),
    (CustomerSource.MANUAL, ("يدوي", "Manual")),
    (CustomerSource.WHATSAPP, ("واتساب", "WhatsApp")),
    (CustomerSource.IMPORT, ("استيراد", "Import")),
    (CustomerSource.REFERRAL, ("إحالة", "Referral")),
    (Priority.LOW, ("منخفضة", "Low")),
    (Priority.MEDIUM, ("متوسطة", "Medium")),
    (Priority.HIGH, ("عالية", "High")),
    (Priority.URGENT, ("عاجلة", "Urgent")),
    (ActionType.NEW_INQUIRY, ("استفسار جديد", "New Inquiry")),
    (ActionType.CALLBACK_REQUEST, ("طلب اتصال", "Callback Request")),
    (ActionType.PROPERTY_MATCH, ("عقار مطابق", "Property Match")),
    (ActionType.FOLLOW_UP, ("متابعة", "Follow-up")),
    (ActionType.DOCUMENT_REQUIRED, ("مستندات مطلوبة", "Document Required")),
    (ActionType.PAYMENT_DUE, ("دفعة مستحقة", "Payment Due")),
    (ActionType.SITE_VISIT, ("معاينة عقار", "Site Visit")),
    (ActionType.WHATSAPP_INCOMING, ("رسالة واتساب", "WhatsApp Message")),
    (ActionType.AI_RECOMMENDED, ("توصية ذكية", "AI Recommended")),
    (ActionStatus.PENDING, ("قيد الانتظار", "Pending")),
    (ActionStatus.IN_PROGRESS, ("قيد التنفيذ", "In Progress")),
    (ActionStatus.COMPLETED, ("مكتمل", "Completed")),
    (ActionStatus.DISMISSED, ("مرفوض", "Dismissed")),
    (ActionStatus.SNOOZED, ("مؤجل", "Snoozed")),
    (DueDateBucket.OVERDUE, ("متأخر", "Overdue")),
    (DueDateBucket.TODAY, ("اليوم", "Today")),
    (DueDateBucket.WEEK, ("هذا الأسبوع", "This Week")),
    (DueDateBucket.NO_DATE, ("بدون تاريخ", "No Due Date")),
    (PropertyType.VILLA, ("فيلا", "Villa")),
    (PropertyType.APARTMENT, ("شقة", "Apartment")),
    (PropertyType.LAND, ("أرض", "Land")),
    (PropertyType.COMMERCIAL, ("تجاري", "Commercial")),
    (PropertyType.DUPLEX, ("دوبلكس", "Duplex")),
    (PropertyType.TOWNHOUSE, ("تاون هاوس", "Townhouse")),
    (PropertyType.BUILDING, ("عمارة", "Building")),
    (PropertyType.OFFICE, ("مكتب", "Office")),
    (PropertyInterestStatus.INTERESTED, ("مهتم", "Interested")),
    (PropertyInterestStatus.VIEWED, ("تمت المعاينة", "Viewed")),
    (PropertyInterestStatus.SHORTLISTED, ("في القائمة المختصرة", "Shortlisted")),
    (PropertyInterestStatus.OFFER_MADE, ("تم تقديم عرض", "Offer Made")),
    (PropertyInterestStatus.REJECTED, ("مرفوض", "Rejected")),
    (PropertyInterestStatus.PURCHASED, ("تم الشراء", "Purchased")),
    (InteractionType.CALL, ("مكالمة", "Call")),
    (InteractionType.WHATSAPP, ("واتساب", "WhatsApp")),
    (InteractionType.EMAIL, ("بريد إلكتروني", "Email")),
    (InteractionType.SMS, ("رسالة نصية", "SMS")),
    (InteractionType.MEETING, ("اجتماع", "Meeting")),
    (InteractionType.SITE_VISIT, ("معاينة", "Site Visit")),
    (InteractionType.NOTE, ("ملاحظة", "Note")),
    (InteractionDirection.INBOUND, ("وارد", "Inbound")),
    (InteractionDirection.OUTBOUND, ("صادر", "Outbound")),
    (Sentiment.POSITIVE, ("إيجابي", "Positive")),
    (Sentiment.NEUTRAL, ("محايد", "Neutral")),
    (Sentiment.NEGATIVE, ("سلبي", "Negative")),
    (AppointmentType.SITE_VISIT, ("معاينة", "Site Visit")),
    (AppointmentType.MEETING, ("اجتماع", "Meeting")),
    (AppointmentType.CALL, ("مكالمة", "Call")),
    (AppointmentType.VIDEO_CALL, ("مكالمة فيديو", "Video Call")),
    (AppointmentType.CONTRACT_SIGNING, ("توقيع العقد", "Contract Signing")),
    (AppointmentType.HANDOVER, ("تسليم", "Handover")),
    (AppointmentType.OTHER, ("أخرى", "Other")),
    (AppointmentStatus.SCHEDULED, ("مجدول", "Scheduled")),
    (AppointmentStatus.CONFIRMED, ("مؤكد", "Confirmed")),
    (AppointmentStatus.COMPLETED, ("مكتمل", "Completed")),
    (AppointmentStatus.CANCELLED, ("ملغى", "Cancelled")),
    (AppointmentStatus.NO_SHOW, ("لم يحضر", "No Show")),
    (AppointmentStatus.RESCHEDULED, ("أعيدت جدولته", "Rescheduled")),
    (ReminderType.FOLLOW_UP, ("متابعة", "Follow-up")),
    (ReminderType.CALL, ("مكالمة", "Call")),
    (ReminderType.MEETING, ("اجتماع", "Meeting")),
    (ReminderType.DOCUMENT, ("مستند", "Document")),
    (ReminderType.PAYMENT, ("دفعة", "Payment")),
    (ReminderType.OTHER, ("أخرى", "Other")),
    (ReminderStatus.PENDING, ("قيد الانتظار", "Pending")),
    (ReminderStatus.COMPLETED, ("مكتمل", "Completed")),
    (ReminderStatus.CANCELLED, ("ملغى", "Cancelled")),
    (DocumentType.ID_COPY, ("صورة الهوية", "ID Copy")),
    (DocumentType.PASSPORT, ("جواز السفر", "Passport")),
    (DocumentType.CONTRACT, ("عقد", "Contract")),
    (DocumentType.EJAR_CONTRACT, ("عقد إيجار", "EJAR Contract")),
    (DocumentType.PROOF_OF_INCOME, ("إثبات الدخل", "Proof of Income")),
    (DocumentType.BANK_STATEMENT, ("كشف حساب بنكي", "Bank Statement")),
    (DocumentType.MORTGAGE_PRE_APPROVAL, ("موافقة تمويل مبدئية", "Mortgage Pre-approval")),
    (DocumentType.PAYMENT_RECEIPT, ("إيصال دفع", "Payment Receipt")),
    (DocumentType.TITLE_DEED, ("صك الملكية", "Title Deed")),
    (DocumentType.OTHER, ("أخرى", "Other")),
    (Role.ADMIN, ("مدير النظام", "Admin")),
    (Role.SALES_MANAGER, ("مدير مبيعات", "Sales Manager")),
    (Role.SALES_AGENT, ("وكيل مبيعات", "Sales Agent")),
    (Role.VIEWER, ("مشاهد", "Viewer")),
    (Permission.CUSTOMERS_READ, ("عرض العملاء", "Read customers")),
    (Permission.CUSTOMERS_WRITE, ("تعديل العملاء", "Write customers")),
    (Permission.CUSTOMERS_DELETE, ("حذف العملاء", "Delete customers")),
    (Permission.ACTIONS_READ, ("عرض الطلبات", "Read actions")),
    (Permission.ACTIONS_WRITE, ("تعديل الطلبات", "Write actions")),
    (Gender.MALE, ("ذكر", "Male")),
    (Gender.FEMALE, ("أنثى", "Female")),
    (Purpose.BUY, ("شراء", "Buy")),
    (Purpose.RENT, ("إيجار", "Rent")),
    (Purpose.INVEST, ("استثمار", "Invest")),
    (Timeline.IMMEDIATE, ("فوري", "Immediate")),
    (Timeline.ONE_TO_THREE_MONTHS, ("خلال 1-3 أشهر", "1-3 months")),
    (Timeline.THREE_TO_SIX_MONTHS, ("خلال 3-6 أشهر", "3-6 months")),
    (Timeline.SIX_TO_TWELVE_MONTHS, ("خلال 6-12 شهراً", "6-12 months")),
    (Timeline.MORE_THAN_YEAR, ("أكثر من سنة", "More than a year")),
    (Furnishing.FURNISHED, ("مفروش", "Furnished")),
    (Furnishing.SEMI_FURNISHED, ("مفروش جزئياً", "Semi-furnished")),
    (Furnishing.UNFURNISHED, ("غير مفروش", "Unfurnished")),
    (CustomerType.INDIVIDUAL, ("فرد", "Individual")),
    (CustomerType.COMPANY, ("شركة", "Company")),
    (CustomerType.INVESTOR, ("مستثمر", "Investor")),
    (CustomerType.GOVERNMENT, ("جهة حكومية", "Government")),
    (ChurnRisk.LOW, ("منخفض", "Low")),
    (ChurnRisk.MEDIUM, ("متوسط", "Medium")),
    (ChurnRisk.HIGH, ("مرتفع", "High")),
    (EngagementLevel.LOW, ("منخفض", "Low")),
    (EngagementLevel.MEDIUM, ("متوسط", "Medium")),
    (EngagementLevel.HIGH, ("مرتفع", "High")),
    (PaymentFrequency.MONTHLY, ("شهري", "Monthly")),
    (PaymentFrequency.QUARTERLY, ("ربع سنوي", "Quarterly")),
    (PaymentFrequency.SEMI_ANNUAL, ("نصف سنوي", "Semi-annual")),
    (PaymentFrequency.ANNUAL, ("سنوي", "Annual")),
    (PropertyStatus.AVAILABLE, ("متاح", "Available")),
    (PropertyStatus.RESERVED, ("محجوز", "Reserved")),
    (PropertyStatus.SOLD, ("مباع", "Sold")),
    (PropertyStatus.RENTED, ("مؤجر", "Rented")),
)

_LABELS: dict[tuple[type[LabelledEnum], str], tuple[str, str]] = {
    (type(member), member.value): labels for member, labels in _LABEL_ROWS
}
