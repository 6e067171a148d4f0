"""What the controllers' handlers declare alike: the path ids, the ``If-Match`` header and the
``no-store`` answer header, each declared once here.

A handler's id parameter reads ``<what> id`` in the document and takes at most
:data:`ID_MAX_LENGTH` characters; a write that checks the version takes ``If-Match`` (the
resource's ETag, ``"v<version>"``). Controllers keep their own ``Annotated`` aliases (a type
checker reads an alias only where it is written) but build their parameters with
:func:`id_parameter` and :func:`if_match_parameter`.
"""

from __future__ import annotations

from typing import Annotated, Any, Final

from litestar.params import Parameter

__all__ = [
    "CUSTOMER_ID",
    "EMPLOYEE_ID",
    "ID_MAX_LENGTH",
    "NO_STORE",
    "id_parameter",
    "if_match_parameter",
]

ID_MAX_LENGTH: Final = 50
"""The longest id a path parameter takes (a longer one is a 400 naming it)."""


def id_parameter(what: str) -> Any:
    """The ``Parameter`` of a path id of a ``what`` (``"Customer"``: "Customer id")."""
    return Parameter(description=f"{what} id", max_length=ID_MAX_LENGTH)


def if_match_parameter(resource: str) -> Any:
    """The optional ``If-Match`` header of a write on a ``resource`` (``"customer"``): the ETag
    it was read with, refused with 412 when the resource has moved on since."""
    return Parameter(
        header="If-Match",
        required=False,
        description=f'The {resource}\'s ETag ("v<version>"): '
        "refuse the change (412) if it moved on",
    )


CUSTOMER_ID = Annotated[str, id_parameter("Customer")]
"""The ``customerId`` path parameter."""
EMPLOYEE_ID = Annotated[str, id_parameter("Employee")]
"""The ``employeeId`` path parameter."""

NO_STORE: Final[dict[str, str]] = {"Cache-Control": "private, no-store"}
"""The headers of an answer that must not be stored (personal data, secrets, reports)."""
