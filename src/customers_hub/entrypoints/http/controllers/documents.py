"""A customer's documents: upload, download and delete (endpoint 28,
``/api/v1/customers/{customerId}/documents``).

* ``POST …/documents`` (multipart, 201) — mounted with the document size limit;
* ``GET …/documents/{documentId}`` (the bytes), ``DELETE …/documents/{documentId}``.

How an upload's type is judged and how a download is answered is written down in
:mod:`.relations` (the decisions of the customer's relations).
"""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass
from typing import Annotated, Any, Final
from urllib.parse import quote

from litestar import Response, delete, get, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body

from customers_hub.application.context import Dependencies
from customers_hub.application.use_cases import documents
from customers_hub.domain.enums import (
    DocumentType,
)
from customers_hub.domain.errors import FieldError, ValidationFailed
from customers_hub.domain.model import Actor
from customers_hub.entrypoints.http.envelope import Envelope, ok
from customers_hub.entrypoints.http.errors import error_responses
from customers_hub.entrypoints.http.route_params import CUSTOMER_ID
from customers_hub.entrypoints.http.strict import StrictController
from customers_hub.entrypoints.http.wire import (
    DocumentOut,
    Wire,
    document_to_wire,
)

__all__ = [
    "OCTET_STREAM",
    "ROUTES",
    "UPLOAD_ROUTES",
    "DocumentFilesController",
    "DocumentsController",
    "detect_media_type",
]

OCTET_STREAM: Final = "application/octet-stream"
DOCX: Final = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
_HEIC_BRANDS: Final = frozenset(
    {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1"}
)


def detect_media_type(content: bytes) -> str | None:
    """The media type of ``content`` judged by its bytes, or None when not an accepted type."""
    if content.startswith(b"%PDF-"):
        return "application/pdf"
    if content.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if content.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if content[:4] == b"RIFF" and content[8:12] == b"WEBP":
        return "image/webp"
    if content[4:8] == b"ftyp" and content[8:12] in _HEIC_BRANDS:
        return "image/heic"
    if content.startswith(b"PK\x03\x04"):
        try:
            # Only the central directory is read: nothing is decompressed.
            with zipfile.ZipFile(io.BytesIO(content)) as archive:
                if "word/document.xml" in archive.namelist():
                    return DOCX
        except (zipfile.BadZipFile, OSError, ValueError):
            return None
    return None


class DocumentData(Wire, kw_only=True):
    """``data`` of a document response."""

    document: DocumentOut


class DocumentDeletion(Wire, kw_only=True):
    """``data`` of a document delete."""

    id: str
    deleted: bool


@dataclass
class DocumentUploadForm:
    """``POST /customers/{id}/documents`` (``multipart/form-data``).

    Every part is optional here so that a missing one is reported by name (400).
    """

    file: UploadFile | None = None
    name: str | None = None
    type: str | None = None
    description: str | None = None
    tags: list[str] | str | None = None


def _tags(raw: list[str] | str | None) -> tuple[str, ...]:
    """``tags`` of the upload form: repeated parts, one JSON array, or comma-separated text."""
    if raw is None:
        return ()
    if isinstance(raw, list):
        return tuple(raw)
    text = raw.strip()
    if text.startswith("["):
        try:
            decoded = json.loads(text)
        except ValueError:
            decoded = None
        if not isinstance(decoded, list) or not all(isinstance(t, str) for t in decoded):
            raise ValidationFailed.single("tags", "must be a JSON array of strings")
        return tuple(decoded)
    return tuple(t for t in text.split(","))


def _document_type(raw: str | None) -> DocumentType | None:
    try:
        return DocumentType(raw.strip()) if raw is not None else None
    except ValueError:
        return None


def _base_name(filename: str | None) -> str | None:
    # A display name only: the last path component of whatever the client sent.
    if not filename:
        return None
    return filename.replace("\\", "/").rsplit("/", 1)[-1].strip() or None


def _content_disposition(name: str, fallback: str) -> str:
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


class DocumentFilesController(StrictController):
    """``/api/v1/customers/{customerId}/documents/{documentId}`` (JSON body limit)."""

    path = "/customers/{customer_id:str}/documents"
    tags = ("Relations",)

    @get(
        "/{document_id:str}",
        operation_id="downloadDocument",
        summary="Download a document",
        media_type=OCTET_STREAM,
        responses=error_responses(403, 404),
    )
    async def download_document(
        self, deps: Dependencies, actor: Actor, customer_id: CUSTOMER_ID, document_id: str
    ) -> Response[bytes]:
        """The document's bytes, with the type detected at upload."""
        stored = await documents.get_document_content(deps, actor, customer_id, document_id)
        document = stored.document
        extension = documents.DOCUMENT_MIME_TYPES.get(document.mime_type, "")
        name = document.name
        if not name.lower().endswith(extension):
            name += extension
        return Response(
            stored.content,
            media_type=document.mime_type,
            headers={
                "Content-Disposition": _content_disposition(name, f"{document.id}{extension}"),
                "X-Content-Type-Options": "nosniff",
                "Cache-Control": "private, no-store",
            },
        )

    @delete(
        "/{document_id:str}",
        operation_id="deleteDocument",
        summary="Delete a document",
        status_code=200,
        responses=error_responses(403, 404),
    )
    async def delete_document(
        self, deps: Dependencies, actor: Actor, customer_id: CUSTOMER_ID, document_id: str
    ) -> Response[Envelope[DocumentDeletion]]:
        """Remove the document's record, then its bytes."""
        command = documents.DeleteDocument(customer_id=customer_id, document_id=document_id)
        await documents.delete_document(deps, actor, command)
        return ok(
            DocumentDeletion(id=document_id, deleted=True),
            message="Document deleted successfully",
        )


class DocumentsController(StrictController):
    """``POST /api/v1/customers/{customerId}/documents`` — mounted with the document size
    limit as its body limit (see ``app.py``)."""

    path = "/customers/{customer_id:str}/documents"
    tags = ("Relations",)

    @post(
        "/",
        operation_id="uploadDocument",
        summary="Upload a document",
        responses=error_responses(403, 404, 413, 415),
    )
    async def upload_document(
        self,
        deps: Dependencies,
        actor: Actor,
        customer_id: CUSTOMER_ID,
        data: Annotated[DocumentUploadForm, Body(media_type=RequestEncodingType.MULTI_PART)],
    ) -> Response[Envelope[DocumentData]]:
        """Store a PDF, JPEG, PNG, WebP, HEIC or DOCX file (type judged by its content)."""
        errors: list[FieldError] = []
        upload = data.file if isinstance(data.file, UploadFile) else None
        if upload is None:
            errors.append(FieldError("file", "is required"))
        document_type = _document_type(data.type)
        if data.type is None or not data.type.strip():
            errors.append(FieldError("type", "is required"))
        elif document_type is None:
            allowed = ", ".join(t.value for t in DocumentType)
            errors.append(FieldError("type", f"Must be one of: {allowed}"))
        try:
            tags = _tags(data.tags)
        except ValidationFailed as bad:
            errors.extend(bad.errors)
            tags = ()
        if errors:
            raise ValidationFailed(errors)
        assert upload is not None  # checked above
        assert document_type is not None
        content = await upload.read()
        await upload.close()
        name = data.name if data.name and data.name.strip() else _base_name(upload.filename)
        document = await documents.upload_document(
            deps,
            actor,
            documents.UploadDocument(
                customer_id=customer_id,
                name=name or "",
                type=document_type,
                content=content,
                mime_type=detect_media_type(content) or OCTET_STREAM,
                description=data.description,
                tags=tags,
            ),
        )
        return ok(
            DocumentData(document=document_to_wire(document)),
            message="Document uploaded successfully",
        )


ROUTES: list[Any] = [DocumentFilesController]
"""Mounted under ``/api/v1`` with the JSON body limit."""

UPLOAD_ROUTES: list[Any] = [DocumentsController]
"""Mounted under ``/api/v1`` with the document size limit."""
