#!/usr/bin/env python3
"""Writes the actions' inputs/outputs tables into README.md (between the actions markers)
from the action.yml files, so the documentation cannot drift from the actions.
`--check` exits 1 when README.md is out of date (run by the tests)."""
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ACTIONS = [
    ("action.yml", "Generic restore (`path`, `key`, `restore-keys`)"),
    ("save/action.yml", "Generic save"),
    ("actions/golang/cache-s3/action.yml", "Go: restore"),
    ("actions/golang/cache-s3/save/action.yml", "Go: save"),
    ("actions/rust/cache-s3/action.yml", "Rust: restore"),
    ("actions/rust/cache-s3/save/action.yml", "Rust: save"),
    ("actions/node/cache-pnpm-s3/action.yml", "pnpm: restore"),
    ("actions/node/cache-pnpm-s3/save/action.yml", "pnpm: save"),
]
BEGIN, END = "<!-- actions:begin (scripts/gen-action-docs.py) -->", "<!-- actions:end -->"


def parse(path):
    """A minimal reader for the flat inputs/outputs maps of our action.yml files (no yaml
    module needed on a fresh machine): name -> {description, default, required}."""
    sections, section, name = {"inputs": {}, "outputs": {}}, None, None
    lines = path.read_text().splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if re.match(r"^(inputs|outputs):\s*$", line):
            section = line.split(":")[0]
        elif re.match(r"^\S", line):
            section = None
        elif section and re.match(r"^  [\w-]+:\s*$", line):
            name = line.strip()[:-1]
            sections[section][name] = {}
        elif section and name and re.match(r"^    (description|default|required):", line):
            field, value = line.strip().split(":", 1)
            value = value.strip()
            if value in (">-", ">", "|"):
                parts = []
                while i + 1 < len(lines) and lines[i + 1].startswith("      "):
                    i += 1
                    parts.append(lines[i].strip())
                value = " ".join(parts)
            sections[section][name][field] = value.strip('"').strip("'") if value not in ('""', "''") else ""
        i += 1
    return sections


def cell(text):
    return text.replace("|", "\\|")


def render():
    out = [BEGIN, ""]
    for rel, title in ACTIONS:
        spec = parse(ROOT / rel)
        uses = "milaboratory/cachekit" + ("" if rel == "action.yml" else "/" + str(Path(rel).parent))
        out += [f"#### {title} — `{uses}`", "", "| input | default | description |", "|---|---|---|"]
        for name, f in spec["inputs"].items():
            default = f.get("default", "")
            if f.get("required") == "true" and not default:
                default = "**required**"
            out.append(f"| `{name}` | {('`' + cell(default) + '`') if default and default != '**required**' else default} | {cell(f.get('description', ''))} |")
        if spec["outputs"]:
            out += ["", "| output | description |", "|---|---|"]
            for name, f in spec["outputs"].items():
                out.append(f"| `{name}` | {cell(f.get('description', ''))} |")
        out.append("")
    out.append(END)
    return "\n".join(out)


def main():
    readme = ROOT / "README.md"
    text = readme.read_text()
    if BEGIN not in text or END not in text:
        sys.exit("README.md has no actions markers")
    new = text[: text.index(BEGIN)] + render() + text[text.index(END) + len(END):]
    if "--check" in sys.argv:
        if new != text:
            sys.exit("README.md's action tables are out of date: run scripts/gen-action-docs.py")
        print("README.md action tables are up to date")
        return
    readme.write_text(new)


if __name__ == "__main__":
    main()
