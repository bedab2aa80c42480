"""The repository-level judgement: which Datasets draw NumPy randomness in workers, and whether reseeded.

Reads top to bottom like the rubric:
1. find the datasets (repo Dataset subclasses, classes handed to a DataLoader, library datasets built with a
   repo transform, collate functions) and walk each one's worker path;
2. keep the NumPy draws on it (global RNG, or RNG objects created outside the worker);
3. find the loaders that may load it, and their num_workers, worker_init_fn and persistent_workers;
4. judge each draw group against the reseeds that reach it: none (affected), a flawed one (flawed-seed),
   a per-worker per-epoch one (seeded), or no worker processes at all (single-process).
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from typing import Callable, Dict, FrozenSet, List, Optional, Set, Tuple

from . import atoms as A
from . import names as N
from .facts import module_name
from .imports import ImportGraph
from .link import Ctx, Index, bind
from .loaders import LoaderInfo, LoaderReader, path_of as _path_of
from .model import Draw, Finding, Function, Klass, Seed, worst
from .reachable import Reachability
from .rules import message
from .values import GLOBAL_RNG, Values
from .testcode import TestFiles
from .vendored import is_vendored

GOOD_SOURCES = frozenset({A.TORCH_SEED, A.WORKER_SEED, A.TORCH_DRAW, A.ENTROPY, A.OTHER})
_MAX_STEPS = 400
# libraries whose transform= takes a transform, not a dataset's: their calls are not datasets
_NOT_DATASETS = ("torchvision.transforms", "albumentations", "torch.", "monai.transforms", "numpy", "PIL")


@dataclass
class Candidate:
    name: str
    path: str
    line: int
    key: str                                   # how loaders name it: A.instance, A.library_dataset, A.loader_key
    entries: List[Tuple[Function, Optional[Klass], bool, tuple]]
    dataset: Optional[Klass] = None


@dataclass
class WorkerPath:
    draws: List[Tuple[Function, Draw, Ctx]] = field(default_factory=list)
    seeds: List[Tuple[Function, Seed, Ctx]] = field(default_factory=list)
    digests: Set[str] = field(default_factory=set)

    @property
    def fingerprint(self) -> str:
        joined = ",".join(sorted(self.digests))
        return hashlib.blake2b(joined.encode(), digest_size=8).hexdigest() if joined else ""


@dataclass(frozen=True)
class SeedJudgement:
    ok: bool
    code: str
    seed: str


class Judge:
    def __init__(self, index: Index):
        self.ix = index
        self.v = Values(index)
        self.read = LoaderReader(index, self.v)
        self._wif_seen: Dict[tuple, list] = {}
        self.reach = Reachability(index.repo)
        self.imports = ImportGraph(index.repo, index._suffix)

    def loaders(self) -> List[LoaderInfo]:
        return self.read.loaders()

    # 1. datasets and their worker paths -------------------------------------------------------------
    def candidates(self, loaders: List[LoaderInfo]) -> List[Candidate]:
        ix = self.ix
        loaded_classes = {c for info in loaders for c in A.instances_of(info.targets)}
        out: List[Candidate] = []
        seen: Set[str] = set()
        classes = list(ix.all_classes())
        for name in loaded_classes:
            k = ix.klass(name)
            if k is not None:
                classes.append(k)
        with ix.peeking():
            datasets = {k.qualname for k in classes if ix.is_dataset(k)}
        for k in classes:
            if k.qualname in seen:
                continue
            seen.add(k.qualname)
            is_ds = k.qualname in datasets
            if not is_ds and k.qualname not in loaded_classes:
                continue
            entries = []
            for m in N.PER_SAMPLE_METHODS:
                fn = ix.method(k, m)
                if fn is not None:
                    entries.append((fn, k, True, ()))
            if not any(fn.name == "__getitem__" or fn.name == "__iter__" for fn, *_ in entries) and is_ds \
                    and any(b.startswith(N.GEOMETRIC_DATASETS) for b in ix.external_bases(k)):
                # PyTorch Geometric's Dataset.__getitem__ calls the subclass's get(idx) for every sample
                fn = ix.method(k, "get")
                if fn is not None:
                    entries.append((fn, k, True, ()))
            if not any(fn.name == "__getitem__" or fn.name == "__iter__" for fn, *_ in entries):
                # A subclass of a library dataset runs the transforms it hands to the library's __getitem__.
                for attr in ("transform", "target_transform", "transforms"):
                    for fn, kk, bound in self.v.called([A.self_attr(attr)], Ctx(None, k)):
                        entries.append((fn, kk, bound, ()))
            if entries or is_ds:
                out.append(Candidate(k.qualname, _path_of(ix, k.qualname), k.line, A.instance(k.qualname), entries, k))
        out.extend(self._library_datasets())
        for n, info in enumerate(loaders):
            collate = [a for k, a in info.loader.args if k == "collate_fn"]
            if collate:
                entries = [(fn, kk, b, ()) for fn, kk, b in self.v.called(collate[0], info.ctx)]
                if entries:
                    out.append(Candidate(f"collate_fn of the loader at {info.where}", info.path, info.loader.line,
                                         A.loader_key(n), entries))
        return out


    def _library_datasets(self) -> List[Candidate]:
        out = []
        for facts in list(self.ix.repo.loaded()):
            for site, hands_transform in facts.calls.library_candidates():
                if not any("datasets" in n or hands_transform for n in A.names_of(facts.calls.callee(site))):
                    continue  # told from the callee alone, without working out the function's body
                call, fn = facts.calls.call(site)
                keywords = {key for key, _ in call.args}
                # torchvision/torchaudio/PyG datasets by name; any other library's dataset class by the
                # transform= it is handed (medmnist.PathMNIST(split, transform=aug)): the transform then
                # runs in the workers like a repo Dataset's __getitem__
                names = [n for n in A.names_of(call.callee)
                         if "datasets" in n or keywords & N.TRANSFORM_KEYWORDS]
                hits = [self.ix.resolve(n) for n in names]
                lib = [h.name for h in hits if h is not None and h.kind == "external"
                       and (h.name.startswith(N.LIBRARY_DATASET_PREFIXES)
                            or keywords & N.TRANSFORM_KEYWORDS and not h.name.startswith(_NOT_DATASETS))]
                if not lib:
                    continue
                known = lib[0].startswith(N.LIBRARY_DATASET_PREFIXES)
                ctx = Ctx(fn, self.ix.class_of(fn))
                entries = []
                for key, atoms in call.args:
                    if key in N.TRANSFORM_KEYWORDS or known and key in ("transforms", "1", "2"):
                        entries.extend((f, k, b, ()) for f, k, b in self.v.called(atoms, ctx))
                if entries:
                    short = lib[0].rsplit(".", 1)[-1]
                    out.append(Candidate(f"{short} with a repo transform", facts.path, call.line,
                                         A.library_dataset(lib[0]), entries))
        return out

    def walk(self, entries, dataset: Optional[Klass], site=None) -> WorkerPath:
        """Everything the repo defines that runs from these entry points, with parameters bound; at a
        construction site, code guarded by a self attribute that the site makes false is left out."""
        path = WorkerPath()
        todo = [(fn, Ctx(fn, k, binding, dataset, site)) for fn, k, _, binding in entries]
        seen: Set[tuple] = set()
        steps = 0
        while todo and steps < _MAX_STEPS:
            fn, ctx = todo.pop(0)
            key = (fn.qualname, ctx.klass.qualname if ctx.klass else "", ctx.binding)
            if key in seen:
                continue
            seen.add(key)
            steps += 1
            path.draws.extend((fn, d, ctx) for d in fn.draws if not (d.guards and self._pruned(d.guards, ctx)))
            if fn.digest:
                path.digests.add(fn.digest)
            path.seeds.extend((fn, s, ctx) for s in fn.seeds)
            for call in fn.calls:
                if call.guards and self._pruned(call.guards, ctx):
                    continue
                for target, klass, bound in self.v.called(call.callee, ctx):
                    binding = bind(call, target, bound, lambda atoms: self.v.expand(atoms, ctx))
                    todo.append((target, Ctx(target, klass, binding, dataset, site)))
        return path

    def _pruned(self, guards, ctx: Ctx) -> bool:
        """Whether a guard (``if self.augment:``) is false for the construction site in ctx."""
        if ctx.site is None or ctx.klass is None or ctx.klass.qualname != ctx.site[0]:
            return False
        for guard in guards:
            attr, wanted = (guard[1:], False) if guard.startswith("!") else (guard, True)
            truth = self._site_truth(attr, ctx)
            if truth is not None and truth != wanted:
                return True
        return False


    def _site_truth(self, attr: str, ctx: Ctx) -> Optional[bool]:
        """Truth of self.attr at a construction site. ``self.test = test`` where the site passes test=True is
        true, although the attribute's atoms also carry the parameter's default (False): the default only
        holds where a call leaves the parameter out."""
        passed = dict(ctx.site[1])
        sets = list(self.ix.attrs(ctx.klass, attr))
        truths = set()
        for owner, a in sets:
            params = [A.param_name(x) for x in a.atoms if A.is_param(x)]
            if a.method != "__init__" or owner is not ctx.klass or len(params) != 1 or not passed.get(params[0]):
                return _truth(self.v.expand([A.self_attr(attr)], ctx))
            truths.add(_truth(passed[params[0]]))
        return truths.pop() if len(truths) == 1 else None

    # 4. judgement ------------------------------------------------------------------------------------
    def judge_seed(self, seed: Seed, ctx: Ctx, persistent: bool, path: str) -> SeedJudgement:
        src = {a for a in self.v.expand(seed.source, ctx) if not A.is_site(a)}
        if any(A.is_lookup(a) for a in src):
            # args.seed, cfg["seed"]: configured once for the run, in the parent; the unknown namespace
            # it is read from adds nothing of its own
            src = {a for a in src if not A.is_lookup(a) and a != A.OTHER} | {A.CONST}
        where = f"{path}:{seed.line}: {seed.text}"
        if src & GOOD_SOURCES:
            return SeedJudgement(True, "", where)
        if A.GET_STATE in src:
            ok = persistent and A.WORKER_ID in src
            return SeedJudgement(ok, "" if ok else "SRV203", where)
        if A.INDEX in src:
            # default_rng([seed, epoch, index]), hash((seed, epoch, index)): a key that includes the epoch
            # differs per epoch as well as per sample, whichever worker draws it
            if any("epoch" in A.description(a).lower() for a in seed.source):
                return SeedJudgement(True, "", where)
            return SeedJudgement(False, "SRV206", where)
        if A.WORKER_ID in src:
            return SeedJudgement(persistent, "" if persistent else "SRV202", where)
        if A.CLOCK in src:
            return SeedJudgement(False, "SRV207", where)
        return SeedJudgement(False, "SRV201", where)

    def wif_seeds(self, info: LoaderInfo, dataset: Optional[Klass]) -> List[Tuple[Function, Seed, Ctx]]:
        entries = []
        for fn, klass, bound in info.wif:
            params = list(fn.params[1:] if bound and fn.params else fn.params)
            binding = tuple((p, frozenset({A.WORKER_ID} if i == 0 else {A.CONST})) for i, p in enumerate(params))
            entries.append((fn, klass, bound, binding))
        return self.walk(entries, dataset).seeds

    def findings(self, cand: Candidate, loaders: List[LoaderInfo], lightning: Callable[[LoaderInfo], bool]) -> List[Finding]:
        path = self.walk(cand.entries, cand.dataset)
        groups, local_seeds = self._groups(path)
        if not groups:
            return []
        if A.is_loader_key(cand.key):
            mine = [loaders[A.loader_index(cand.key)]]
        else:
            mine = [info for info in loaders if info.loads(cand.key) and (
                cand.key in info.targets or cand.dataset is None
                # untraced: only a loader that can run in one program with the dataset's module
                or self.imports.together(module_name(info.path), module_name(cand.path)))]
        # Each loader traced to the calls that built its dataset is judged with what those calls passed
        # (the val loader's augment=False); the others with everything any caller passes the class.
        by_site, rest = [], []
        for info in mine:
            sites = self.read.sites(info, cand.dataset) if cand.dataset is not None and info.targets else []
            (by_site if sites else rest).append((info, sites))
        out: List[Finding] = []
        if rest or not mine:
            out += self._group_findings(cand, path, groups, local_seeds, [i for i, _ in rest], lightning)
        for info, sites in by_site:
            for site in sites:
                site_path = self.walk(cand.entries, cand.dataset, site)
                site_groups, site_local = self._groups(site_path)
                found = self._group_findings(cand, site_path, site_groups, site_local, [info], lightning)
                out += [replace(f, pairing="construction site") for f in found]
        return [replace(f, fingerprint=path.fingerprint) for f in out]

    def _groups(self, path: WorkerPath):
        groups: Dict[str, List[Tuple[Function, Draw, Ctx]]] = {}
        local_seeds: Dict[str, Tuple[Seed, Ctx, str]] = {}
        for fn, draw, ctx in path.draws:
            if draw.kind == "local":
                key = f"local:{fn.qualname}:{draw.line}:{draw.col}"
                groups.setdefault(key, []).append((fn, draw, ctx))
                local_seeds[key] = (Seed(draw.line, draw.col, draw.text, "object", draw.refs), ctx, _path_of(self.ix, fn.qualname))
            elif draw.kind == "global":
                groups.setdefault(GLOBAL_RNG, []).append((fn, draw, ctx))
            elif draw.kind == "object":
                for key in sorted(self.v.rng_keys(draw.refs, ctx)):
                    groups.setdefault(key, []).append((fn, draw, ctx))
        return groups, local_seeds

    def _group_findings(self, cand, path, groups, local_seeds, mine, lightning) -> List[Finding]:
        multi = [info for info in mine if info.multi]
        out: List[Finding] = []
        for group, draws in sorted(groups.items()):
            kind = "global" if group == GLOBAL_RNG else "instance"
            if not multi:
                out.extend(self._finding("SRV302", fn, d, ctx, cand, kind, mine[0] if mine else None, None)
                           for fn, d, ctx in draws)
                continue
            for info in multi:
                if group in local_seeds:
                    seed, ctx0, where = local_seeds[group]
                    judged = self.judge_seed(seed, ctx0, False, where)
                    code = "SRV301" if judged.ok else judged.code
                    out.extend(self._finding(code, fn, d, ctx, cand, kind, info, judged) for fn, d, ctx in draws)
                    continue
                code, seed = self._judge_group(group, path, info, cand, lightning)
                if info.wif_optional and code == "SRV301":
                    # the runs that pass worker_init_fn=None decide: they have the bug
                    unseeded = replace(info, wif=[], wif_unresolved=False, wif_optional=False)
                    code, seed = self._judge_group(group, path, unseeded, cand, lightning)
                out.extend(self._finding(code, fn, d, ctx, cand, kind, info, seed) for fn, d, ctx in draws)
        return out

    def _judge_group(self, group: str, path: WorkerPath, info: LoaderInfo, cand: Candidate,
                     lightning: Callable[[LoaderInfo], bool]) -> Tuple[str, Optional[SeedJudgement]]:
        path_seeds = [(s, ctx, _path_of(self.ix, fn.qualname)) for fn, s, ctx in path.seeds]
        seeds = list(path_seeds)
        key = (id(info), cand.key)  # the same loader and dataset come back once per draw group
        if key not in self._wif_seen:
            self._wif_seen[key] = [(s, ctx, _path_of(self.ix, fn.qualname))
                                   for fn, s, ctx in self.wif_seeds(info, cand.dataset)]
        from_wif = self._wif_seen[key] + [(s, info.ctx, info.path) for s in info.wif_seeds]
        seeds += from_wif

        def covers(seed: Seed, ctx: Ctx) -> bool:
            if group == GLOBAL_RNG:
                return seed.target == "global"
            return seed.target == "object" and group in self.v.rng_keys(seed.refs, ctx)

        relevant = [(s, ctx, p) for s, ctx, p in seeds if covers(s, ctx)]
        per_sample = [(s, ctx, p) for s, ctx, p in path_seeds if covers(s, ctx)]
        if per_sample:
            # A reseed on the per-sample path runs after any worker_init_fn, so it decides.
            relevant = per_sample
        if relevant:
            judged = [self.judge_seed(s, ctx, info.persistent, p) for s, ctx, p in relevant]
            good = [j for j in judged if j.ok]
            return ("SRV301", good[0]) if good else (judged[0].code, judged[0])
        lightning_here = lightning(info) and not info.wif
        if lightning_here and group == GLOBAL_RNG:
            # seed_everything(workers=True) installs Lightning's worker_init_fn, seeded from the process seed
            # and worker id per epoch, on loaders that have none.
            return "SRV301", SeedJudgement(True, "", "seed_everything(workers=True)")
        if info.wif_unresolved:
            return "SRV301", SeedJudgement(True, "", f"worker_init_fn {info.loader.text} (unresolved)")
        # A reseed of another RNG only misleads when it is the worker's reseed: one in __getitem__
        # (random.seed(...) per sample) leaves NumPy as unseeded as no reseed at all.
        if from_wif or lightning_here:
            others = {s.target for s, _, _ in from_wif} | ({"global"} if lightning_here else set())
            text = from_wif[0][0].text if from_wif else "seed_everything(workers=True)"
            where = f"{from_wif[0][2]}:{from_wif[0][0].line}: {text}" if from_wif else text
            code = "SRV205" if group != GLOBAL_RNG and "global" in others else "SRV204"
            return code, SeedJudgement(False, code, where)
        return ("SRV101" if group == GLOBAL_RNG else "SRV102"), None

    def _finding(self, code: str, fn: Function, draw: Draw, ctx: Ctx, cand: Candidate, kind: str,
                 info: Optional[LoaderInfo], seed: Optional[SeedJudgement]) -> Finding:
        from .rules import RULES
        path = _path_of(self.ix, fn.qualname)
        line, col = draw.line, draw.col
        if code in ("SRV201", "SRV202", "SRV203", "SRV204", "SRV205", "SRV206", "SRV207") and seed is not None \
                and ":" in seed.seed and not seed.seed.startswith("seed_everything"):
            seed_path, seed_line = seed.seed.split(":", 2)[:2]
            if seed_line.isdigit():
                path, line, col = seed_path, int(seed_line), 1
        workers = _summary(info.workers_how) if info else "no DataLoader"
        return Finding(
            code=code, path=path, line=line, col=col, message=message(code), verdict=RULES[code].verdict,
            dataset=cand.name, rng_call=f"{_path_of(self.ix, fn.qualname)}:{draw.line}: {draw.text}", rng_kind=kind,
            loader=f"{info.where}: {info.loader.text}" if info else "", num_workers=workers,
            worker_init_fn=info.wif_text if info else "", seed=seed.seed if seed else "",
            unreachable=info is not None and not self.reach.loader_runs(info.loader.scope, module_name(info.path)),
            pairing="" if info is None else ("class" if cand.key in info.targets else "untraced"),
        )


def _summary(how: List[str], limit: int = 6) -> str:
    unique = list(dict.fromkeys(how))
    more = f", … ({len(unique) - limit} more)" if len(unique) > limit else ""
    return ", ".join(unique[:limit]) + more


def _truth(atoms) -> Optional[bool]:
    """Whether a value is truthy, when every value it may hold agrees; None when unknown."""
    seen = set()
    for a in atoms:
        if a in (A.NONE, A.FALSE) or A.is_integer(a) and A.integer_value(a) == 0:
            seen.add(False)
        elif a == A.TRUE or A.is_integer(a) or A.is_instance(a) or A.is_function(a):
            seen.add(True)
        elif a == A.CONST or A.is_site(a) or A.is_rng(a):
            continue  # CONST accompanies True/False/ints; a site or an RNG identity rides with a value
        else:
            return None
    return seen.pop() if len(seen) == 1 else None


def _in_vendored(f: Finding, roots) -> bool:
    draw_path = f.rng_call.split(":", 1)[0]
    loader_path = f.loader.split(":", 1)[0] if f.loader else draw_path
    return is_vendored(draw_path, roots) and is_vendored(loader_path, roots)


def _lightning_rule(index: Index) -> Callable[["LoaderInfo"], bool]:
    """Whether Lightning's seed_everything(workers=True) reseeds a loader's workers.

    It does in the program that calls it: a loader in a file calling seed_everything(workers=True) is
    reseeded, one in a file calling seed_everything() without it is not (that program never asked), and a
    loader in a library module (a LightningDataModule's hooks) is reseeded when some program asks."""
    loaded = index.repo.loaded()
    asking = {f.path for f in loaded if f.lightning_workers}
    plain = {f.path for f in loaded if f.lightning_plain} - asking

    def rule(info: "LoaderInfo") -> bool:
        if info.path in asking:
            return True
        if info.path in plain:
            return False
        return bool(asking)
    return rule


def judge_repo(index: Index, vendored_roots: FrozenSet[str] = frozenset(),
               count_vendored: bool = False) -> Tuple[str, str, List[Finding]]:
    """(verdict, rng_kind, findings) for the repository behind the index.

    Findings whose draw and loader both lie in a vendored tree are marked; they decide the verdict only
    with ``count_vendored``. Findings whose loader is in test code are marked and never decide it."""
    judge = Judge(index)
    loaders = judge.loaders()
    lightning = _lightning_rule(index)
    cands = judge.candidates(loaders)
    findings: List[Finding] = []
    for cand in cands:
        findings.extend(judge.findings(cand, loaders, lightning))
    unique: Dict[tuple, Finding] = {}
    for f in findings:
        unique.setdefault((f.code, f.path, f.line, f.col, f.dataset), f)
    findings = sorted(unique.values(), key=lambda f: (f.path, f.line, f.col, f.code))
    if vendored_roots:
        findings = [replace(f, vendored=True) if _in_vendored(f, vendored_roots) else f for f in findings]
    tests = TestFiles(index.repo)
    findings = [replace(f, in_tests=True) if tests.holds((f.loader or f.rng_call).split(":", 1)[0]) else f
                for f in findings]
    deciding = [f for f in findings if (count_vendored or not f.vendored) and not f.in_tests]
    has_dataset = any((c.dataset is not None or A.is_library_dataset(c.key)) and not tests.holds(c.path) for c in cands)
    if deciding:
        verdict = worst(f.counted_verdict for f in deciding)
    else:
        verdict = "clean" if has_dataset else "no-dataset"
    kinds = {f.rng_kind for f in deciding if f.supports(verdict)}
    rng_kind = "both" if len(kinds) > 1 else (kinds.pop() if kinds else "")
    return verdict, rng_kind, findings
