#!/usr/bin/env python3
"""Prints the [bans] skip list for deny.toml: every crate version that
`cargo deny check bans` reports as a duplicate, each with the crates that pull it
in. Run after a dependency change, review, and paste into deny.toml."""
import json, subprocess, sys

out = subprocess.run(["cargo", "deny", "--format", "json", "check", "bans"],
                     capture_output=True, text=True).stderr
seen = {}
for line in out.splitlines():
    try:
        d = json.loads(line)
    except ValueError:
        continue
    if d.get("fields", {}).get("code") != "duplicate":
        continue
    for graph in d["fields"]["graphs"]:
        k = graph["Krate"]
        parents = sorted({p["Krate"]["name"] for p in graph.get("parents", [])})
        seen[f'{k["name"]}@{k["version"]}'] = parents
for crate, parents in sorted(seen.items()):
    print(f'    {{ crate = "{crate}", reason = "used by {", ".join(parents) or "the workspace"}" }},')
