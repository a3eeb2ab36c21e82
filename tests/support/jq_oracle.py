#!/usr/bin/env python3
"""The jq oracle: evaluates with libjq 1.7.1 through jq.py, the binding Ocean uses.

Default mode, expressions: Ocean's rule, the first output or nothing.
  stdin: one JSON object per line, {"program": str, "input": any}
  stdout: one JSON object per line, in order:
    {"compile_error": msg} | {"error": msg} | {"empty": true} | {"value": any}

Programs are given as the user wrote them: this script applies Ocean's single-quote
rewriting itself (`ocean_format`), independently of the Rust engine's.

`rewrite` mode: only that rewriting.
  stdin: one JSON string per line; stdout: the rewritten program, one JSON string per line.

`map` mode: Ocean's mapping semantics (port_ocean 0.48: jq_entity_processor and
handle_items_to_parse), written again here in Python on top of libjq, as the reference the
Rust engine is compared with.
  stdin: {"resource": <resources[] entry>, "item": raw, "allow_env": bool}
  stdout: {"outcomes": [{"entity": {...}} | {"filtered": true} | {"dropped": reason}
                        | {"selector_error": true}]}
"""
import json
import re
import sys

import jq

cache = {}
out = sys.stdout


def compile_cached(program, allow_env=True):
    key = (program, allow_env)
    if key not in cache:
        cache[key] = jq.compile(program if allow_env else "def env: {}; {} as $ENV | " + program)
    return cache[key]


# Ocean 0.48's rule (`_format_filter` in jq_entity_processor.py, the same as Port's UI),
# stated here on its own: a single quote is taken for a string delimiter, and becomes a
# double quote, only by what is around it; strings are not read.
# Opening: at the start or after whitespace, and not followed by whitespace or `"`.
# Closing: not after whitespace or `"`, and followed by whitespace or the end.
# It is one substitution, so matches do not overlap: the whitespace a closing quote takes
# cannot open the next string (`'a' 'b'` becomes `"a" 'b"`). A quote touching a bracket is
# left alone (`test('x')` stays), and one inside a double-quoted string is rewritten like
# any other (`"is 'x' now"` becomes `"is "x" now"`, which does not compile).
OCEAN_DELIMITER = re.compile(
    r"""
      (?P<before>^|\s) ' (?![\s"])    # opening; the whitespace before it is part of the match
    | (?<![\s"]) ' (?P<after>\s|$)     # closing; so is the whitespace after it
    """,
    re.VERBOSE,
)


def ocean_format(program):
    """The program text libjq compiles once Ocean has rewritten single quotes."""
    return OCEAN_DELIMITER.sub(lambda m: (m["before"] or "") + '"' + (m["after"] or ""), program)


def search(data, program, allow_env):
    try:
        return compile_cached(ocean_format(program), allow_env).input_value(data).first()
    except Exception:  # noqa: BLE001 - Ocean: any failure is None
        return None


def search_object(data, obj, allow_env):
    result = {}
    for key, value in obj.items():
        if isinstance(value, list):
            result[key] = [search_object(data, o, allow_env) if isinstance(o, dict) else search(data, o, allow_env) for o in value]
        elif isinstance(value, dict):
            result[key] = search_object(data, value, allow_env)
        elif value is None:
            result[key] = None
        else:
            result[key] = search(data, str(value).lower() if isinstance(value, bool) else str(value), allow_env)
    return result


def map_item(resource, item, allow_env):
    port = resource["port"]
    mappings = port["entity"]["mappings"]
    items_to_parse = port.get("itemsToParse")
    children = [item]
    if items_to_parse:
        elements = search(item, items_to_parse, allow_env)
        if not isinstance(elements, list):
            return [{"dropped": "itemsToParse did not yield a list"}]
        name = port.get("itemsToParseName", "item")
        if port.get("itemsToParseTopLevelTransform", True):
            src = items_to_parse.strip()
            target = "." if src.startswith("map(") else src.split("|", 1)[0].strip()
            base = search(item, f"del({target}) // {{}}", allow_env)
            if not isinstance(base, dict):
                base = item
            children = [{**base, name: e} for e in elements]
        else:
            children = [{name: e, **item} for e in elements]
    outcomes = []
    for child in children:
        try:
            selected = compile_cached(ocean_format(resource["selector"]["query"]), allow_env).input_value(child).first()
        except StopIteration:
            selected = None
        except Exception:  # noqa: BLE001
            selected = None
        if not isinstance(selected, bool):
            outcomes.append({"selector_error": True})
            continue
        if not selected:
            outcomes.append({"filtered": True})
            continue
        entity = search_object(child, mappings, allow_env)
        if not (entity.get("identifier") and entity.get("blueprint")):
            outcomes.append({"dropped": "identifier or blueprint empty"})
            continue
        outcomes.append({"entity": entity})
    return outcomes


if len(sys.argv) > 1 and sys.argv[1] == "map":
    for line in sys.stdin:
        case = json.loads(line)
        outcomes = map_item(case["resource"], case["item"], case.get("allow_env", True))
        out.write(json.dumps({"outcomes": outcomes}) + "\n")
    out.flush()
    sys.exit(0)

if len(sys.argv) > 1 and sys.argv[1] == "rewrite":
    for line in sys.stdin:
        out.write(json.dumps(ocean_format(json.loads(line))) + "\n")
    out.flush()
    sys.exit(0)

for line in sys.stdin:
    case = json.loads(line)
    program = ocean_format(case["program"])
    try:
        compiled = cache.get(program)
        if compiled is None:
            compiled = jq.compile(program)
            cache[program] = compiled
    except Exception as e:  # noqa: BLE001 - any compile failure is a result
        cache[program] = None
        out.write(json.dumps({"compile_error": str(e)[:200]}) + "\n")
        continue
    try:
        it = compiled.input_value(case["input"])
        try:
            value = it.first()
            result = {"value": value}
        except StopIteration:
            result = {"empty": True}
    except Exception as e:  # noqa: BLE001
        result = {"error": str(e)[:200]}
    try:
        out.write(json.dumps(result, allow_nan=False) + "\n")
    except ValueError:
        out.write(json.dumps({"value": None}) + "\n")
out.flush()
