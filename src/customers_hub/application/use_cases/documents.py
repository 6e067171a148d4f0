"""Customer documents: upload, read back and delete (API document, endpoint 14).

The size limit and the accepted types (:data:`DOCUMENT_MIME_TYPES`) are checked before anything
is loaded; the bytes are stored before the transaction opens and removed again when it fails
(the decisions are in :mod:`.relations`). The writes take one command naming the customer (a
:class:`~customers_hub.application.use_cases.relations.RelationCommand`) and, for a deletion,
the document."""

from __future__ import annotations

from collections.abc import Mapping

from attrs import frozen

from customers_hub.application.context import Dependencies
from customers_hub.application.errors import PayloadTooLarge, UnsupportedMediaType
from customers_hub.application.ports import UnitOfWork
from customers_hub.application.use_cases.customers import (
    NOTES_MAX_LENGTH,
    load_customer,
)
from customers_hub.application.use_cases.relations import (
    TITLE_MAX_LENGTH,
    RelationCommand,
    clean_field,
    relation_changed,
)
from customers_hub.application.write_context import transaction_as
from customers_hub.domain import customers as aggregate
from customers_hub.domain.access import Operation, enforce
from customers_hub.domain.enums import (
    DocumentType,
)
from customers_hub.domain.errors import (
    NotFound,
)
from customers_hub.domain.events import DomainEvent
from customers_hub.domain.model import (
    Actor,
    Document,
)
from customers_hub.domain.validation import (
    Errors,
    normalize_tags,
)

__all__ = [
    "DOCUMENT_MIME_TYPES",
    "DeleteDocument",
    "DocumentContent",
    "UploadDocument",
    "delete_document",
    "get_document_content",
    "upload_document",
]


DOCUMENT_MIME_TYPES: Mapping[str, str] = {
    "application/pdf": ".pdf",
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "image/webp": ".webp",
    "image/heic": ".heic",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ".docx",
}
"""Accepted document types and the extension of their storage keys."""


# ---------------------------------------------------------------------------------------------
# Documents


@frozen(kw_only=True)
class UploadDocument(RelationCommand):
    """Store a file about the customer; ``mime_type`` is what the edge detected from the bytes."""

    name: str
    type: DocumentType
    content: bytes
    mime_type: str
    description: str | None = None
    tags: tuple[str, ...] = ()


@frozen(kw_only=True)
class DeleteDocument(RelationCommand):
    """Remove the customer's document ``document_id`` (record, then bytes)."""

    document_id: str


@frozen
class DocumentContent:
    """A document's record and its bytes."""

    document: Document
    content: bytes


def _media_type(raw: str) -> str:
    # "application/pdf; charset=binary" → "application/pdf"
    return raw.split(";", 1)[0].strip().lower()


async def upload_document(deps: Dependencies, actor: Actor, command: UploadDocument) -> Document:
    """Store the bytes and the record; 413 over the size limit, 415 for other types."""
    customer_id = command.customer_id
    size = len(command.content)
    if size > deps.settings.max_document_bytes:
        raise PayloadTooLarge(size, deps.settings.max_document_bytes)
    mime_type = _media_type(command.mime_type)
    extension = DOCUMENT_MIME_TYPES.get(mime_type)
    if extension is None:
        raise UnsupportedMediaType(mime_type, tuple(DOCUMENT_MIME_TYPES))
    errors = Errors()
    name = clean_field(errors, "name", command.name, max_length=TITLE_MAX_LENGTH, required=True)
    description = clean_field(
        errors, "description", command.description, max_length=NOTES_MAX_LENGTH, multiline=True
    )
    tags = normalize_tags(errors, command.tags)
    if size == 0:
        errors.add("file", "is empty")
    document_id = deps.ids.new_id("doc")
    storage_key = f"{document_id}{extension}"

    async def work(uow: UnitOfWork) -> tuple[Document, list[DomainEvent]]:
        now = deps.clock.now()
        loaded = await load_customer(uow, actor, customer_id, Operation.UPDATE_CUSTOMER)
        errors.raise_if_any()
        assert name is not None  # required
        document = Document(
            id=document_id,
            customer_id=customer_id,
            name=name,
            type=command.type,
            storage_key=storage_key,
            file_size=size,
            mime_type=mime_type,
            uploaded_by=actor.display_name,
            uploaded_by_id=actor.user_id,
            uploaded_at=now,
            description=description,
            tags=tags,
        )
        await uow.relations.add_document(actor.organization_id, document)
        return document, aggregate.add_document(loaded.customer, document, now=now)

    if errors:
        # 404/403 still come before 400: the transaction reports them, writing nothing.
        return await transaction_as(deps, actor, work)
    # The role alone may refuse (a viewer): then there is nothing to write.
    enforce(actor, Operation.UPDATE_CUSTOMER, resource_type="customer", resource_id=customer_id)
    # Bytes first, outside any transaction; a retried attempt reuses the same key.
    await deps.storage.put(storage_key, command.content)
    try:
        return await transaction_as(deps, actor, work)
    except BaseException:
        await deps.storage.delete(storage_key)
        raise


async def get_document_content(
    deps: Dependencies, actor: Actor, customer_id: str, document_id: str
) -> DocumentContent:
    """A document's record and bytes (read access to the customer)."""
    async with deps.uow(read_only=True) as uow:
        await load_customer(uow, actor, customer_id, Operation.READ_CUSTOMERS, for_update=False)
        document = await uow.relations.get_document(actor.organization_id, customer_id, document_id)
    if document is None:
        raise NotFound("document", document_id)
    content = await deps.storage.get(document.storage_key)
    if content is None:
        raise NotFound("document", document_id)
    return DocumentContent(document, content)


async def delete_document(deps: Dependencies, actor: Actor, command: DeleteDocument) -> None:
    """Remove a document's record, then (after the commit) its bytes."""
    customer_id, document_id = command.customer_id, command.document_id

    async def work(uow: UnitOfWork) -> tuple[Document, list[DomainEvent]]:
        now = deps.clock.now()
        loaded = await load_customer(uow, actor, customer_id, Operation.UPDATE_CUSTOMER)
        document = await uow.relations.get_document(actor.organization_id, customer_id, document_id)
        if document is None:
            raise NotFound("document", document_id)
        await uow.relations.delete_document(actor.organization_id, document_id)
        changes: dict[str, object] = {f"documents.{document_id}": None}
        return document, relation_changed(loaded.customer, changes, now, employee=None)

    document = await transaction_as(deps, actor, work)
    await deps.storage.delete(document.storage_key)
