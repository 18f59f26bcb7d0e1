#!/usr/bin/env python3
"""Validates recorded emulator exchanges against Neon's OpenAPI document.

Usage: validate.py SPEC.yaml EXCHANGES.json

SPEC.yaml is `public-v2-for-users.gen.yaml` from the npm package `@neondatabase/api-client`
(installed by scripts/test into the test-tools cache, never committed). EXCHANGES.json is
written by the contract test (tests/contract/contract.rs): a list of

    {"name", "method", "path", "query", "request_body", "valid_request",
     "status", "content_type", "retry_after", "body"}

with `path` as served by the emulator (at the root or under /api/v2).

Each response is checked three ways:
  1. openapi-core validates status and body against the operation's declared responses
     (a status the operation does not declare falls back to `default`, Neon's GeneralError);
  2. every key of the body must be one the schema documents: OpenAPI objects allow extra keys,
     but an emulator that invents keys is not "to the letter" of the API;
  3. requests marked `valid_request` are validated too (minus authentication), so the test
     proves it exercised the route the way Neon documents it.

Prints one line per exchange and a summary line; exits 1 on any mismatch.
"""

import json
import sys
from urllib.parse import parse_qsl

import yaml
from openapi_core import Config, OpenAPI
from openapi_core.testing import MockRequest, MockResponse

SERVER = "https://console.neon.tech"
PREFIX = "/api/v2"


def stringify_keys(node):
    if isinstance(node, dict):
        return {str(k): stringify_keys(v) for k, v in node.items()}
    if isinstance(node, list):
        return [stringify_keys(v) for v in node]
    return node


def resolve(spec, schema):
    while isinstance(schema, dict) and "$ref" in schema:
        node = spec
        for part in schema["$ref"].lstrip("#/").split("/"):
            node = node[part]
        schema = node
    return schema


def undocumented(spec, schema, value, where, out):
    """Collects keys of `value` that `schema` does not document (recursively)."""
    schema = resolve(spec, schema)
    if not isinstance(schema, dict):
        return
    parts = [schema]
    for key in ("allOf", "oneOf", "anyOf"):
        parts += [resolve(spec, s) for s in schema.get(key, [])]
    if isinstance(value, dict):
        props = {}
        free = False
        for part in parts:
            props.update(part.get("properties", {}))
            extra = part.get("additionalProperties")
            if extra not in (None, False):
                free = True
                for k, v in value.items():
                    if k not in props and isinstance(extra, dict):
                        undocumented(spec, extra, v, f"{where}.{k}", out)
        for k, v in value.items():
            if k in props:
                undocumented(spec, props[k], v, f"{where}.{k}", out)
            elif not free and any("properties" in p for p in parts):
                out.append(f"{where}.{k}: key not in Neon's schema")
    elif isinstance(value, list):
        for part in parts:
            if "items" in part:
                for i, v in enumerate(value):
                    undocumented(spec, part["items"], v, f"{where}[{i}]", out)


def describe(e):
    """One short line per schema error (openapi-core's own text quotes whole schemas)."""
    errors = []
    seen = set()
    node = e
    while node is not None and id(node) not in seen:
        seen.add(id(node))
        for err in getattr(node, "schema_errors", None) or []:
            for leaf in err.context or [err]:
                errors.append(f"{leaf.json_path}: {leaf.message}")
        node = node.__cause__ or node.__context__
    return errors or [f"{type(e).__name__}: {e}"]


def response_schema(spec, openapi_path, method, status):
    op = spec["paths"][openapi_path][method.lower()]
    responses = op["responses"]
    resp = responses.get(str(status)) or responses.get("default")
    resp = resolve(spec, resp)
    content = (resp or {}).get("content", {})
    return content.get("application/json", {}).get("schema")


def find_template(spec, path):
    """The spec's path template matching a concrete /projects/... path."""
    segs = path.strip("/").split("/")
    best = None
    for template in spec["paths"]:
        t = template.strip("/").split("/")
        if len(t) != len(segs):
            continue
        if all(a == b or (a.startswith("{") and a.endswith("}")) for a, b in zip(t, segs)):
            literal = sum(1 for a in t if not a.startswith("{"))
            if best is None or literal > best[0]:
                best = (literal, template)
    return best[1] if best else None


def main():
    spec_path, exchanges_path = sys.argv[1], sys.argv[2]
    with open(spec_path, encoding="utf-8") as f:
        # YAML reads `200:` as an integer; OpenAPI means the string "200".
        spec = stringify_keys(yaml.safe_load(f))
    # Validate responses only against the security-less view: our requests carry a key, and
    # the 401 exchanges deliberately do not.
    spec_noauth = dict(spec)
    spec_noauth.pop("security", None)
    # The document itself is Neon's to check, not ours: skip openapi-spec-validator.
    openapi = OpenAPI.from_dict(spec_noauth, config=Config(spec_validator_cls=None))
    with open(exchanges_path, encoding="utf-8") as f:
        exchanges = json.load(f)

    failures = 0
    for x in exchanges:
        path = x["path"]
        api_path = path[len(PREFIX):] if path.startswith(PREFIX + "/") else path
        label = f'{x["method"]} {path}{"?" + x["query"] if x["query"] else ""} -> {x["status"]} ({x["name"]})'
        problems = []
        template = find_template(spec, api_path)
        if template is None or x["method"].lower() not in spec["paths"][template]:
            problems.append("no such operation in Neon's OpenAPI document")
        else:
            args = dict(parse_qsl(x["query"] or "", keep_blank_values=True))
            body = x["body"].encode("utf-8")
            request = MockRequest(
                SERVER,
                x["method"].lower(),
                PREFIX + api_path,
                args=args,
                data=(x.get("request_body") or "").encode("utf-8") or None,
            )
            response = MockResponse(
                body,
                status_code=x["status"],
                content_type=x.get("content_type") or "application/json",
            )
            if x["status"] == 204 and body:
                problems.append("204 with a body")
            if x["status"] != 204:
                try:
                    openapi.validate_response(request, response)
                except Exception as e:  # openapi-core wraps the schema errors in one exception
                    problems += describe(e)
                schema = response_schema(spec, template, x["method"], x["status"])
                if schema is not None:
                    try:
                        value = json.loads(x["body"])
                    except ValueError as e:
                        problems.append(f"body is not JSON: {e}")
                    else:
                        undocumented(spec, schema, value, "$", problems)
            else:
                declared = spec["paths"][template][x["method"].lower()]["responses"]
                if "204" not in declared:
                    problems.append("Neon's document does not declare 204 here")
            if x.get("valid_request"):
                try:
                    openapi.validate_request(request)
                except Exception as e:
                    problems += ["request: " + p for p in describe(e)]
        if problems:
            failures += 1
            print(f"MISMATCH {label}")
            for p in problems:
                print(f"    {p}")
        else:
            print(f"ok       {label}")
    print(f"contract: {len(exchanges) - failures} of {len(exchanges)} exchanges match")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
