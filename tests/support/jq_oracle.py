#!/usr/bin/env python3
"""The jq oracle: evaluates (program, input) pairs with libjq 1.7.1 through jq.py, the
binding Ocean uses, with Ocean's rule: the first output, or nothing.

stdin: one JSON object per line, {"program": str, "input": any}
stdout: one JSON object per line, in order:
  {"compile_error": msg} | {"error": msg} | {"empty": true} | {"value": any}
"""
import json
import sys

import jq

cache = {}
out = sys.stdout
for line in sys.stdin:
    case = json.loads(line)
    program = case["program"]
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
