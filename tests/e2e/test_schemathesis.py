"""The contract as a fuzzer sees it: the served OpenAPI document, and schemathesis against it.

* The document is valid OpenAPI 3.1 (``openapi-spec-validator``), every operation has an example
  request drawn from the API document where it takes a body, lists its error answers with the
  error envelope, and every request body refuses unknown fields as the service does.
* ``scripts/fuzz.sh`` — the same script ``make fuzz`` runs for longer — starts a real
  ``customers-hub serve`` with two demo organizations and runs schemathesis (fixed seed, every
  check, positive and negative data, the examples, coverage, fuzzing and stateful phases) once
  as the admin and once as a sales agent. The run must find nothing: no 5xx, every status and
  body as documented, invalid data refused, schema-valid data accepted (``schemathesis.toml``
  says which answers depend on stored state, and why).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest
from httpx import AsyncClient
from openapi_spec_validator import validate

ROOT = Path(__file__).resolve().parents[2]
FUZZ = ROOT / "scripts" / "fuzz.sh"
# Bounded for the test command: a few examples per operation and phase (make fuzz: 100).
BOUNDED_EXAMPLES = os.environ.get("CUSTOMERS_HUB_TEST_FUZZ_EXAMPLES", "8")
FUZZ_TIMEOUT = 3000  # two roles, four phases, 57 operations: 7-15 min each on 2 cores

Client = AsyncClient


async def served_document(client: Client) -> dict[str, Any]:
    response = await client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    document: dict[str, Any] = response.json()
    return document


def operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in {"get", "post", "put", "patch", "delete"}
    ]


async def test_the_served_document_is_valid_openapi_3_1(client: Client) -> None:
    document = await served_document(client)
    assert document["openapi"].startswith("3.1")
    validate(document)  # raises on any violation of the OpenAPI 3.1 schema


async def test_every_operation_lists_its_errors_with_the_envelope(client: Client) -> None:
    document = await served_document(client)
    assert "ErrorEnvelope" in document["components"]["schemas"]
    public = {"/health", "/ready"}
    for path, method, operation in operations(document):
        if path in public:
            continue
        responses = operation["responses"]
        for status in ("400", "401", "403", "429", "500"):
            content = responses[status]["content"]["application/json"]["schema"]
            assert content == {"$ref": "#/components/schemas/ErrorEnvelope"}, (path, method)
        if method in {"post", "put", "patch", "delete"}:
            assert {"404", "409", "422"} <= set(responses), (path, method)


async def test_every_body_has_a_document_example_and_refuses_unknown_fields(
    client: Client,
) -> None:
    document = await served_document(client)
    schemas = document["components"]["schemas"]
    with_body = [
        (path, method, operation)
        for path, method, operation in operations(document)
        if "requestBody" in operation
    ]
    assert with_body
    for path, method, operation in with_body:
        for media_type, media in operation["requestBody"]["content"].items():
            assert "examples" in media, (path, method, media_type)
            if media_type != "application/json":
                continue
            shape = media["schema"]
            # A body that may be omitted is oneOf [the body, null].
            ref = next((s["$ref"] for s in [shape, *shape.get("oneOf", [])] if "$ref" in s), "")
            assert ref, (path, method)
            body = schemas[ref.rsplit("/", 1)[-1]]
            assert body.get("additionalProperties") is False, (path, method)


async def test_the_customer_body_states_what_the_validation_enforces(client: Client) -> None:
    document = await served_document(client)
    operation = document["paths"]["/api/v1/customers"]["post"]
    ref = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    body = document["components"]["schemas"][ref.rsplit("/", 1)[-1]]
    assert {"name", "phone", "source"} <= set(body["required"])
    assert body["properties"]["name"]["maxLength"] == 255
    example = operation["requestBody"]["content"]["application/json"]["examples"]["document"]
    assert example["value"]["name"] == "عبدالله الشمري"
    # The example itself is accepted by the service.
    assert example["value"]["phone"].startswith("+9665")


@pytest.mark.skipif(sys.platform != "linux", reason="the fuzz script is a bash script for Linux")
def test_schemathesis_finds_nothing_as_admin_and_as_agent(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "FUZZ_EXAMPLES": BOUNDED_EXAMPLES,
        "FUZZ_SEED": "42",
        "FUZZ_ROLES": "admin sales_agent",
        # The agent's run is about access (403s, scope, other organizations); the coverage
        # phase's boundary values are the same for every role and run once, as the admin.
        "FUZZ_PHASES_sales_agent": "examples,fuzzing,stateful",
        "FUZZ_REPORT_DIR": str(tmp_path),
        "VENV": str(Path(sys.executable).parent.parent),  # the venv (not the resolved python)
    }
    result = subprocess.run(
        ["bash", str(FUZZ)],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=FUZZ_TIMEOUT,
        check=False,
    )
    output = result.stdout + result.stderr
    # Both runs happened and tested operations (a run that tested nothing must not pass).
    started = re.findall(r"^== schemathesis as \S+ \(", output, flags=re.MULTILINE)
    assert len(started) == 2, output[-4000:]
    assert result.returncode == 0, output[-12000:]
    for role in ("admin", "sales_agent"):
        report = ElementTree.parse(tmp_path / f"junit-{role}.xml").getroot()
        cases = report.findall(".//testcase")
        assert len(cases) >= 40, (role, len(cases))  # every operation of the document was run
        assert not report.findall(".//failure"), role
