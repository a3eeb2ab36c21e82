# jq 1.7 definitions of builtins whose jaq versions differ (see docs/jq-compatibility.md).
# AWS tags are [{Key, Value}] pairs: jq's from_entries accepts key/k/name/Name/K/Key and
# value/v/Value, jaq's only key/value.
def from_entries: reduce .[] as $x ({};
  . + { ($x | if .key == null then .k // .name // .Name // .K // .Key else .key end
           | if type == "string" then . else tojson end):
        ($x | if has("value") then .value elif has("v") then .v else .Value end) });
# jq rejects strings that are not numbers; jaq's tonumber reads a leading number out of
# e.g. "2024-03-15T08:30:00Z".
def _jaq_tonumber: tonumber;
def tonumber:
  if type == "string" and (test("^[+-]?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][+-]?[0-9]+)?$") | not)
  then error("string (\(tojson)) cannot be parsed as a number")
  else _jaq_tonumber end;
# jq 1.7's todate is strftime, which drops fractional seconds; jaq's keeps them.
def todate: strftime("%Y-%m-%dT%H:%M:%SZ");
# jq refuses to check containment across types (null | contains("x") is an error, which
# Ocean turns into null); jaq answers false.
def _jaq_contains($b): contains($b);
def contains($b):
  if type == ($b | type) then _jaq_contains($b)
  else error("\(type) (\(tojson)) and \($b | type) (\($b | tojson)) cannot have their containment checked") end;
# jq joins null as "" and numbers/booleans as JSON text; jaq writes "null".
def join($x): reduce .[] as $i (null;
  (if . == null then "" else . + $x end) +
  ($i | if . == null then "" elif type == "string" then . elif type == "number" or type == "boolean" then tojson
        else error("Cannot join with \(type)") end)) // "";
# jq builtin that jaq lacks.
def tostream: path(def r: (.[]? | r), .; r) as $p | getpath($p) | reduce path(.[]?) as $q ([$p, .]; [$p + $q]);
# `env` is `$ENV`, the environment without this program's secrets (jaq's `env` reads the
# whole process environment).
def env: $ENV;
# jaq's range/3 is native: each output passes the evaluation guard (see guard.rs), so an
# endless range (`last(range(1e18))`) stops like an endless recursion.
def _jaq_range($from; $upto; $by): range($from; $upto; $by);
def range($from; $upto; $by): _jaq_range($from; $upto; $by) | __guard;
def range($from; $upto): range($from; $upto; 1);
def range($upto): range(0; $upto);
# jaq's JSON parser recurses once per nesting level without a limit: a deeply nested text
# would overflow the stack. jq refuses past 10,000 levels; here past 512 (guard.rs).
def _jaq_fromjson: fromjson;
def fromjson:
  if type == "string" and (__json_nesting > 512)
  then error("Exceeds depth limit for parsing")
  else _jaq_fromjson end;
