"""Write the example responses that ``test_gh_shapes.py`` compares against.

GitHub's OpenAPI description (github/rest-api-description) is published on npm as
``@octokit/openapi``: ``npm pack @octokit/openapi``, untar it, then
``python extract.py package/generated/api.github.com.json .`` writes one JSON file per
operation below: its example response, status and the schema's property names.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

R = "/repos/{owner}/{repo}"
ENDPOINTS: list[tuple[str, str, str | None]] = [
    ("get", "/user", "response-with-public-and-private-profile-information"),
    ("get", "/rate_limit", None),
    ("get", f"{R}/issues", None),
    ("post", f"{R}/issues", None),
    ("patch", f"{R}/issues/{{issue_number}}", None),
    ("post", f"{R}/issues/{{issue_number}}/labels", None),
    ("get", f"{R}/labels", None),
    ("post", f"{R}/labels", None),
    ("get", f"{R}/issues/{{issue_number}}/events", None),
    ("get", f"{R}/collaborators/{{username}}/permission", None),
    ("get", f"{R}/issues/{{issue_number}}/comments", None),
    ("post", f"{R}/issues/{{issue_number}}/comments", None),
    ("patch", f"{R}/issues/comments/{{comment_id}}", None),
    ("post", f"{R}/pulls", None),
    ("get", f"{R}/pulls", None),
    ("get", f"{R}/pulls/{{pull_number}}", None),
    ("put", f"{R}/pulls/{{pull_number}}/merge", None),
    ("get", f"{R}/pulls/{{pull_number}}/files", None),
    ("get", f"{R}/pulls/{{pull_number}}/commits", None),
    ("post", f"{R}/pulls/{{pull_number}}/reviews", None),
    ("get", f"{R}/pulls/{{pull_number}}/reviews", None),
    ("get", f"{R}/pulls/{{pull_number}}/reviews/{{review_id}}/comments", None),
    ("get", f"{R}/pulls/{{pull_number}}/comments", None),
    ("post", f"{R}/check-runs", "example-of-completed-conclusion"),
    ("get", f"{R}/commits/{{ref}}/check-runs", None),
    ("post", f"{R}/statuses/{{sha}}", None),
    ("get", f"{R}/commits/{{ref}}/status", None),
    ("get", f"{R}/commits/{{ref}}/statuses", None),
]


def resolve(spec: dict[str, Any], node: Any) -> Any:
    """Follow ``$ref``s to the node they name."""
    while isinstance(node, dict) and "$ref" in node:
        target: Any = spec
        for part in node["$ref"].split("/")[1:]:
            target = target[part]
        node = target
    return node


def properties(spec: dict[str, Any], schema: Any) -> tuple[set[str], set[str]]:
    """A response schema's property names and required names (of its items for arrays)."""
    schema = resolve(spec, schema)
    if schema.get("type") == "array":
        return properties(spec, schema["items"])
    names: set[str] = set(schema.get("properties", {}))
    required: set[str] = set(schema.get("required", []))
    for combinator in ("allOf", "anyOf", "oneOf"):
        for part in schema.get(combinator, []):
            more, more_required = properties(spec, part)
            names |= more
            if combinator == "allOf":
                required |= more_required
    return names, required


def extract(spec: dict[str, Any], method: str, path: str, which: str | None) -> dict[str, Any]:
    """The shape file of one operation."""
    operation = spec["paths"][path][method]
    code, response = next((c, r) for c, r in operation["responses"].items() if c[0] == "2")
    content = resolve(spec, response)["content"]["application/json"]
    name = which or next(iter(content["examples"]))
    names, required = properties(spec, content["schema"])
    return {
        "operation": operation["operationId"],
        "method": method.upper(),
        "path": path,
        "status": int(code),
        "source": f"@octokit/openapi {spec['info']['version']} (github/rest-api-description): "
        f"paths['{path}'].{method}.responses['{code}'], example '{name}'",
        "schema_properties": sorted(names),
        "schema_required": sorted(required),
        "example": resolve(spec, content["examples"][name])["value"],
    }


def main(description: str, out: str) -> None:
    """Write one file per emulated operation into ``out``."""
    spec = json.loads(Path(description).read_text())
    for method, path, which in ENDPOINTS:
        shape = extract(spec, method, path, which)
        target = Path(out) / (shape["operation"].replace("/", "--") + ".json")
        target.write_text(json.dumps(shape, indent=1) + "\n")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
