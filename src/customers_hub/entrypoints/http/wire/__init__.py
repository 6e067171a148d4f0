"""The wire format: msgspec Structs for bodies and responses, and domain → wire serializers.

Conventions (the API document's examples, field for field):

* Keys are camelCase (:class:`Wire` renames ``snake_case`` attributes).
* Money is a JSON number (:func:`money`: a whole amount as an integer, else a float with at most
  two decimals); datetimes are ISO-8601 UTC with ``Z`` (msgspec renders aware UTC datetimes that
  way; sub-second digits only when not zero); dates are ``YYYY-MM-DD``.
* An optional value the record does not have is **omitted** (as in the document's examples);
  :data:`UNSET` marks it. ``null`` appears only where it carries meaning (``fromStage`` of the
  first history entry, cursors at either end of a list).
* Request bodies are :class:`WireIn` Structs, decoded by :mod:`~.strict`: every failing field
  reported at once, unknown keys refused (400 naming them), except the read-only keys of the
  response shape a body ``echoes`` (``id``, ``stage``, ``leadScore``, ``organizationId``,
  timestamps, counters of a customer), which are checked against that shape and never read.
  Partial-update bodies use :data:`UNSET` for "not sent" and ``None`` for "clear".
"""

from __future__ import annotations

from msgspec import UNSET, UnsetType

from customers_hub.entrypoints.http.wire.base import (
    API_PREFIX,
    Pagination,
    Wire,
    WireIn,
    money,
    number,
    opt,
    opt_utc,
    page_to_wire,
    utc,
)
from customers_hub.entrypoints.http.wire.compliance import (
    EjarContractOut,
    EjarContractWire,
    FinancingOut,
    FinancingWire,
    KsaComplianceIn,
    KsaComplianceOut,
    SakaniWire,
    WafiLicenceWire,
    ksa_compliance_to_wire,
)
from customers_hub.entrypoints.http.wire.customer_in import (
    CustomerIn,
    NewCustomerIn,
    PreferencesIn,
    domain_unset,
)
from customers_hub.entrypoints.http.wire.customer_out import (
    CUSTOMER_FIELDS,
    CustomerOut,
    customer_to_wire,
    parse_fields,
    select_fields,
    wire_keys,
)
from customers_hub.entrypoints.http.wire.customer_parts import (
    AiInsightsOut,
    AssignedEmployeeOut,
    PreferencesOut,
    PropertyInterestOut,
    ScoreFactorOut,
    StageChangeOut,
    ai_insights_to_wire,
    assigned_employee_to_wire,
    preferences_to_wire,
    property_interest_to_wire,
    stage_change_to_wire,
)
from customers_hub.entrypoints.http.wire.params import (
    FIELDS,
    LEAD_SCORE_MAX,
    LEAD_SCORE_MIN,
    LIMIT,
    PAGE,
    PAGE_MAX,
    amount_errors,
    parse_time_bound,
    split_values,
)
from customers_hub.entrypoints.http.wire.relations import (
    AppointmentOut,
    DocumentOut,
    InteractionOut,
    ReminderOut,
    appointment_to_wire,
    document_to_wire,
    document_url,
    interaction_to_wire,
    reminder_to_wire,
)
from customers_hub.entrypoints.http.wire.stats import (
    CustomerStatsOut,
    EmployeeOptionOut,
    FilterOptionOut,
    FilterOptionsOut,
    customer_stats_to_wire,
    filter_options_to_wire,
)

__all__ = [
    "API_PREFIX",
    "CUSTOMER_FIELDS",
    "FIELDS",
    "LEAD_SCORE_MAX",
    "LEAD_SCORE_MIN",
    "LIMIT",
    "PAGE",
    "PAGE_MAX",
    "UNSET",
    "AiInsightsOut",
    "AppointmentOut",
    "AssignedEmployeeOut",
    "CustomerIn",
    "CustomerOut",
    "CustomerStatsOut",
    "DocumentOut",
    "EjarContractOut",
    "EjarContractWire",
    "EmployeeOptionOut",
    "FilterOptionOut",
    "FilterOptionsOut",
    "FinancingOut",
    "FinancingWire",
    "InteractionOut",
    "KsaComplianceIn",
    "KsaComplianceOut",
    "NewCustomerIn",
    "Pagination",
    "PreferencesIn",
    "PreferencesOut",
    "PropertyInterestOut",
    "ReminderOut",
    "SakaniWire",
    "ScoreFactorOut",
    "StageChangeOut",
    "UnsetType",
    "WafiLicenceWire",
    "Wire",
    "WireIn",
    "ai_insights_to_wire",
    "amount_errors",
    "appointment_to_wire",
    "assigned_employee_to_wire",
    "customer_stats_to_wire",
    "customer_to_wire",
    "document_to_wire",
    "document_url",
    "domain_unset",
    "filter_options_to_wire",
    "interaction_to_wire",
    "ksa_compliance_to_wire",
    "money",
    "number",
    "opt",
    "opt_utc",
    "page_to_wire",
    "parse_fields",
    "parse_time_bound",
    "preferences_to_wire",
    "property_interest_to_wire",
    "reminder_to_wire",
    "select_fields",
    "split_values",
    "stage_change_to_wire",
    "utc",
    "wire_keys",
]
