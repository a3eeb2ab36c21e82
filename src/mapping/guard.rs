//! Bounds on one JQ evaluation: how much stack it may use and how many steps it may take.
//!
//! jaq has no recursion limit: `def f: 1 + f; f` recurses on the native stack until the
//! process aborts (SIGABRT), and a tail-recursive loop (`until(false; .)`, `def f: f; f`)
//! or an endless generator (`last(range(1e18))`) runs forever. A mapping lives in Port and
//! is read by every run, so such an expression would crash or hang every run.
//!
//! **Checks.** Every definition that can recurse — one whose name lies on a cycle of the
//! call graph, in jaq's standard library, our prelude or the user's program — is compiled
//! as `__guard | body`, as are the arguments of the calls in its body (a tail call can
//! pass itself an ever longer closure) and the update of every `reduce`/`foreach`
//! ([`guard_defs`]); the prelude also passes each output of `range/3`, a native
//! generator, through `__guard`. `__guard` hands its input on unchanged once the budgets
//! allow one more step. Non-recursive definitions (`select`, `map`…) cost nothing extra.
//!
//! **Budgets**, per evaluation (one field of one item), in two tiers:
//!
//! - [`INLINE`], on the caller's thread: 768 KiB of stack and 2,000 steps, which any
//!   ordinary expression stays far within. A recursion level of
//!   `def f: if . == 0 then 0 else (. - 1 | f) + 1 end` costs about 26 KiB in a debug build
//!   (frames are several times smaller in release), and what runs between two checks is
//!   bounded by the expression's depth (`jq::MAX_DEPTH` levels, about 5 KiB each in
//!   debug), so an evaluation fits a 2 MiB thread (tokio's worker stack, the smallest we
//!   run on), and the few thousand levels a value can gain in 2,000 steps are freed
//!   within it too (jaq frees nested values recursively).
//! - [`DEDICATED`]: an evaluation that spends the inline budget is run again from the
//!   start on a thread of its own with a [`DEDICATED_STACK`] stack, allowed 256 MiB of it
//!   and 200,000 steps. Past those, the evaluation fails for good with [`TOO_DEEP`] or
//!   [`TOO_LONG`]; the field becomes `null` and is reported with its expression like any
//!   other jq error (an identifier that fails blocks deletion, see
//!   `docs/reliability.md`). Endless programs stop within a second or two even in a
//!   debug build.
//!
//! Running out is remembered even when the program catches the error (`try … catch`), so
//! that a result computed on a cut-short evaluation is never used.

use std::cell::Cell;
use std::collections::{BTreeMap, BTreeSet};

use jaq_core::box_iter::box_once;
use jaq_core::load::lex::StrPart;
use jaq_core::load::parse::{BinaryOp, Def, Pattern, Term};
use jaq_core::native::{Fun, bome, v};
use jaq_core::path::{Part, Path};
use jaq_core::{Error, Exn, Native, data};
use jaq_json::Val;

/// Name of the native filter that checks the budgets.
pub const NAME: &str = "__guard";

/// What one evaluation may spend.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Bytes of stack used since the evaluation started.
    pub stack: usize,
    /// Guarded calls, `range` outputs and fold iterations.
    pub steps: u64,
}

/// The budget on the caller's thread.
pub const INLINE: Limits = Limits {
    stack: 768 * 1024,
    steps: 2_000,
};

/// The budget of an evaluation run again on its own thread.
pub const DEDICATED: Limits = Limits {
    stack: 256 << 20,
    steps: 200_000,
};

/// Stack of the thread of a [`DEDICATED`] evaluation: its budget, plus room to free a
/// value nested once per step (a few hundred bytes per level in a debug build). Only the
/// pages used are ever touched.
pub const DEDICATED_STACK: usize = 512 << 20;

/// The error when the stack budget runs out.
pub const TOO_DEEP: &str = "recursion too deep: the stack budget of one evaluation is spent (does a definition call itself without end?)";

/// The error when the step budget runs out.
pub const TOO_LONG: &str =
    "evaluation stopped after 200000 steps (does a loop or a generator run without end?)";

thread_local! {
    /// Stack position where the current evaluation started; 0 outside evaluations.
    static BASE: Cell<usize> = const { Cell::new(0) };
    /// Stack the current evaluation may use.
    static STACK: Cell<usize> = const { Cell::new(0) };
    /// Steps the current evaluation has left.
    static STEPS_LEFT: Cell<u64> = const { Cell::new(0) };
    /// Whether the current evaluation ran out of a budget.
    static SPENT: Cell<bool> = const { Cell::new(false) };
}

/// The budgets of the evaluation running on this thread, from [`Budget::enter`] until the
/// value is dropped (which restores those of an enclosing evaluation, if any).
#[must_use]
pub struct Budget {
    outer: (usize, usize, u64, bool),
}

impl Budget {
    /// Starts the budgets of one evaluation, measured from the caller's stack position.
    pub fn enter(limits: Limits) -> Budget {
        let outer = (BASE.get(), STACK.get(), STEPS_LEFT.get(), SPENT.get());
        BASE.set(stack_position());
        STACK.set(limits.stack);
        STEPS_LEFT.set(limits.steps);
        SPENT.set(false);
        Budget { outer }
    }

    /// Whether the evaluation ran out of a budget, even if it caught the error.
    pub fn spent(&self) -> bool {
        SPENT.get()
    }
}

impl Drop for Budget {
    fn drop(&mut self) {
        let (base, stack, steps, spent) = self.outer;
        BASE.set(base);
        STACK.set(stack);
        STEPS_LEFT.set(steps);
        SPENT.set(spent);
    }
}

/// An address in the current stack frame (the stack grows down on every platform we
/// build for; the distance is taken either way).
#[inline(never)]
fn stack_position() -> usize {
    let marker = 0u8;
    std::hint::black_box(&marker) as *const u8 as usize
}

/// Spends one step; fails when a budget is exhausted. Outside an evaluation there is no
/// budget to check.
fn check() -> Result<(), &'static str> {
    let base = BASE.get();
    if base == 0 {
        return Ok(());
    }
    let failed = if base.abs_diff(stack_position()) > STACK.get() {
        TOO_DEEP
    } else if let Some(left) = STEPS_LEFT.get().checked_sub(1) {
        STEPS_LEFT.set(left);
        return Ok(());
    } else {
        TOO_LONG
    };
    SPENT.set(true);
    Err(failed)
}

type D = data::JustLut<Val>;

fn error(message: &'static str) -> Error<Val> {
    Error::str(message)
}

/// `__guard`: the identity, as a filter, a path (`path(f)`) and an update target
/// (`f |= g`), once the budgets allow one more step.
pub fn native() -> Fun<D> {
    let native = Native::<D>::new(|cv| bome(check().map(|()| cv.1).map_err(error)))
        .with_paths(|cv| box_once(check().map(|()| cv.1).map_err(|e| Exn::from(error(e)))))
        .with_update(|cv, f| match check() {
            Ok(()) => f(cv.1),
            Err(e) => bome(Err(error(e))),
        });
    (NAME, v(0), native)
}

/// Name of the native filter that measures how deeply a JSON text nests.
pub const NESTING: &str = "__json_nesting";

/// `__json_nesting`: the deepest `[`/`{` nesting of a string, outside string literals
/// (0 for anything that is not a string); a linear scan that never recurses. The prelude's
/// `fromjson` refuses texts nested deeper than 512 levels with it (jq's own limit is
/// 10,000; jaq's parser recurses once per level and has none, so
/// `"[" * 200000 | fromjson` overflowed the stack). AWS data nests a few dozen levels.
pub fn nesting_native() -> Fun<D> {
    let native = Native::<D>::new(|cv| {
        let depth = match &cv.1 {
            Val::TStr(b) | Val::BStr(b) => json_nesting(b),
            _ => 0,
        };
        bome(Ok(Val::from(depth as isize)))
    });
    (NESTING, v(0), native)
}

fn json_nesting(text: &[u8]) -> usize {
    let (mut depth, mut deepest, mut in_string, mut escaped) = (0usize, 0usize, false, false);
    for &b in text {
        match b {
            _ if escaped => escaped = false,
            b'\\' if in_string => escaped = true,
            b'"' => in_string = !in_string,
            b'[' | b'{' if !in_string => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            b']' | b'}' if !in_string => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    deepest
}

/// `defs` with the body of every definition that can recurse (nested ones included)
/// turned into `__guard | body`, the arguments of the calls in those bodies and the
/// updates of folds likewise.
pub fn guard_defs(mut defs: Vec<Def<&str>>) -> Vec<Def<&str>> {
    let mut graph = Graph::new();
    for def in &mut defs {
        let calls = calls(&mut def.body, &mut graph);
        graph.entry(def.name).or_default().extend(calls);
    }
    let recursive: BTreeSet<&str> = graph
        .keys()
        .copied()
        .filter(|name| reaches(&graph, name, name))
        .collect();
    for def in &mut defs {
        guard_def(def, &recursive);
    }
    defs
}

/// Guards `def` if it can recurse, and the recursive definitions nested in it.
///
/// Guarding a definition's entry is not enough when it passes itself a growing closure
/// (`def f(g): g | f(g + 1)` is a tail call that builds `((. + 1) + 1) + …`, and
/// evaluating `g` then recurses through the closures, not through `f`): every argument of
/// every call in the body of a recursive definition is guarded too, which puts a check on
/// each level of such a chain.
fn guard_def<'s>(def: &mut Def<&'s str>, recursive: &BTreeSet<&'s str>) {
    guard_nested(&mut def.body, recursive);
    if recursive.contains(def.name) {
        guard_arguments(&mut def.body, recursive);
        guard(&mut def.body);
    }
}

/// Guards the recursive definitions and the fold updates nested anywhere in `term`.
fn guard_nested<'s>(term: &mut Term<&'s str>, recursive: &BTreeSet<&'s str>) {
    match term {
        Term::Def(defs, _) => {
            for def in defs {
                guard_def(def, recursive);
            }
        }
        // `reduce xs as $x (init; update)`, `foreach … (init; update; extract)`.
        Term::Fold(_, _, _, args) => {
            if let Some(update) = args.get_mut(1) {
                guard(update);
            }
        }
        _ => {}
    }
    for child in children(term) {
        guard_nested(child, recursive);
    }
}

/// `f(a; b)` → `f(__guard | a; __guard | b)` everywhere in `term`, except in recursive
/// definitions nested in it (guarded on their own).
fn guard_arguments<'s>(term: &mut Term<&'s str>, recursive: &BTreeSet<&'s str>) {
    match term {
        Term::Call(_, args) => {
            for arg in args {
                guard_arguments(arg, recursive);
                guard(arg);
            }
            return;
        }
        Term::Def(defs, _) => {
            for def in defs.iter_mut().filter(|d| !recursive.contains(d.name)) {
                guard_arguments(&mut def.body, recursive);
            }
        }
        _ => {}
    }
    for child in children(term) {
        guard_arguments(child, recursive);
    }
}

/// Called names per definition name.
///
/// The graph links a definition's name to every name called anywhere in its body
/// (arguments and nested definitions included), ignoring arity and scope. That can only
/// add edges, so every definition that really recurses lies on a cycle (jq has no
/// first-class functions: a recursion always goes through a call by name written in the
/// body of a definition on the cycle), and a few that do not may be guarded needlessly.
type Graph<'s> = BTreeMap<&'s str, BTreeSet<&'s str>>;

/// The names called in `term`; the definitions nested in it are added to `graph`.
fn calls<'s>(term: &mut Term<&'s str>, graph: &mut Graph<'s>) -> BTreeSet<&'s str> {
    let mut out = BTreeSet::new();
    match term {
        Term::Call(name, _) => {
            out.insert(*name);
        }
        Term::Def(defs, _) => {
            for def in defs {
                let called = calls(&mut def.body, graph);
                graph.entry(def.name).or_default().extend(&called);
                out.extend(called);
            }
        }
        _ => {}
    }
    for child in children(term) {
        out.extend(calls(child, graph));
    }
    out
}

/// Whether `to` can be reached from the callees of `from`.
fn reaches(graph: &Graph, from: &str, to: &str) -> bool {
    let mut seen = BTreeSet::new();
    let mut todo: Vec<&str> = graph.get(from).into_iter().flatten().copied().collect();
    while let Some(name) = todo.pop() {
        if name == to {
            return true;
        }
        if seen.insert(name) {
            todo.extend(graph.get(name).into_iter().flatten().copied());
        }
    }
    false
}

/// `body` → `__guard | body` (a tail call in `body` stays one).
fn guard(body: &mut Term<&str>) {
    let inner = std::mem::take(body);
    *body = Term::BinOp(
        Box::new(Term::Call(NAME, Vec::new())),
        BinaryOp::Pipe(None),
        Box::new(inner),
    );
}

/// Levels of the syntax tree of `term`, definition bodies included (evaluation recurses
/// once per level).
pub fn depth(term: &mut Term<&str>) -> usize {
    let mut deepest = 0;
    if let Term::Def(defs, _) = term {
        for def in defs {
            deepest = deepest.max(depth(&mut def.body));
        }
    }
    for child in children(term) {
        deepest = deepest.max(depth(child));
    }
    deepest + 1
}

/// The sub-terms of `term`, except the bodies of the definitions it opens (the callers
/// treat those per definition).
fn children<S>(term: &mut Term<S>) -> Vec<&mut Term<S>> {
    let mut out = Vec::new();
    match term {
        Term::Id | Term::Recurse | Term::Num(_) | Term::Break(_) | Term::Var(_) => {}
        Term::Str(_, parts) => out.extend(parts.iter_mut().filter_map(|p| match p {
            StrPart::Term(t) => Some(t),
            _ => None,
        })),
        Term::Arr(t) => out.extend(t.as_deref_mut()),
        Term::Obj(entries) => {
            for (k, v) in entries {
                out.push(k);
                out.extend(v);
            }
        }
        Term::Neg(t) | Term::Label(_, t) => out.push(t),
        Term::BinOp(l, op, r) => {
            out.push(l);
            if let BinaryOp::Pipe(Some(p)) = op {
                pattern_terms(p, &mut out);
            }
            out.push(r);
        }
        Term::Fold(_, xs, pattern, args) => {
            out.push(xs);
            pattern_terms(pattern, &mut out);
            out.extend(args);
        }
        Term::TryCatch(t, c) => {
            out.push(t);
            out.extend(c.as_deref_mut());
        }
        Term::IfThenElse(branches, otherwise) => {
            for (cond, then) in branches {
                out.push(cond);
                out.push(then);
            }
            out.extend(otherwise.as_deref_mut());
        }
        Term::Def(_, rest) => out.push(rest),
        Term::Call(_, args) => out.extend(args),
        Term::Path(t, Path(parts)) => {
            out.push(t);
            for (part, _) in parts {
                match part {
                    Part::Index(i) => out.push(i),
                    Part::Range(from, upto) => out.extend(from.iter_mut().chain(upto)),
                }
            }
        }
    }
    out
}

fn pattern_terms<'a, S>(pattern: &'a mut Pattern<S>, out: &mut Vec<&'a mut Term<S>>) {
    match pattern {
        Pattern::Var(_) => {}
        Pattern::Arr(items) => items.iter_mut().for_each(|p| pattern_terms(p, out)),
        Pattern::Obj(entries) => {
            for (key, p) in entries {
                out.push(key);
                pattern_terms(p, out);
            }
        }
    }
}

#[cfg(test)]
mod nesting_tests {
    use super::json_nesting;

    #[test]
    fn nesting_counts_brackets_outside_strings() {
        assert_eq!(json_nesting(br#"{"a": [1, {"b": "[[[{"}]]}"#), 3);
        assert_eq!(json_nesting(br#""\"[[""#), 0);
        assert_eq!(json_nesting(b"[[[]]]"), 3);
        assert_eq!(json_nesting(b"]]][["), 2);
        assert_eq!(json_nesting(b"1"), 0);
    }
}
