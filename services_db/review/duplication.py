"""Duplication: services that cover the same people for the same need, paid for or run by different partners.

review.md (v2): two current services overlap when they share a theme **and** a target group (a service with no
target group matches none) and the Jaccard overlap of their coverage, weighted by population, is >= 0.5. A
duplication group is a set of services that all overlap each other pairwise within **one** theme and **one**
target group (a clique of the overlap graph of that theme and group, never a chain of connected components), and
whose members come from different partners. The groups are the maximal cliques: a service may be in several groups
(of different themes or target groups, or two overlapping cliques of one theme and group, both reported), and no
group is part of a larger one of the same theme (a group whose services all belong to a larger group of the same
theme, for another target group, adds nothing to it and is left out).

"Different partners": at least two different (non-empty) sets of commissioners among the members (a service funded
by OPCC and the county differs from one funded by OPCC alone), or at least two different provider names. Services
of one commissioner and one provider are one partner's own arrangement; a service whose commissioners are not
recorded does not differ from the others by commissioner. When the same services form a group in several themes
or target groups (two services that share two themes), the group is reported once, under the first of them (the
themes table's order, then the target group's key): the same money is not counted again under each theme.

Each group's figures: the overlap is the smallest pairwise Jaccard overlap; the shared areas are the areas
holding the intersection of all members' coverage (most residents first); the combined funding is the members'
known annual funding, and the money potentially duplicated is that less the largest member's; a current service
with no current funding line has unknown funding (not £0) and is counted apart. A group is force-wide when every
member covers the whole force: review_force reports it once, review_area does not repeat it as an area finding.

How it stays sparse (national scale: 34,753 LSOAs, 100,000 services, about 3 s): services are compared only within
a (theme, target group). Services with identical coverage share one "coverage set" (found by hashing their LSOA
lists), and LSOAs covered by exactly the same sets are merged into "atoms". The services of one (theme, target
group, coverage set) all overlap each other fully and everything else alike, so they are one node of the overlap
graph. Candidate edges are the node pairs of one (theme, target group) whose sets share a district; the Jaccard
overlap is then computed once per pair of sets, whatever the theme: a set lying in districts the other covers whole
is inside it, and only the remaining pairs are compared atom by atom (the smaller set's atoms looked up in the
larger's). Never a dense service-by-service matrix. Cliques are found on that small graph: a connected component
whose nodes all overlap is one clique (the usual case, found without a loop), and only the others are searched by
Bron–Kerbosch with pivoting. The shared coverage is worked out once per combination of coverage sets.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
import pandas as pd

from services_db.review.context import (
    Context,
    csr,
    explode,
    gather,
    objects,
    unique,
    unique_counts,
    unique_inverse,
    unique_rows,
)
from services_db.review.data import ReviewData
from services_db.review.dates import DateLike
from services_db.review.geography import check_level

MIN_OVERLAP = 0.5  # population-weighted Jaccard overlap of coverage that makes two services overlap

GROUP_COLUMNS = [
    "group_id", "theme_key", "theme_name", "target_group", "target_group_name", "themes", "target_groups",
    "n_services", "service_ids", "services", "commissioners", "n_commissioners", "providers", "n_providers",
    "combined_funding", "money_duplicated", "n_unknown_funding", "overlap", "population", "shared_area_codes",
    "shared_areas", "force_wide", "wide",
]
PAIR_COLUMNS = ["service_id_a", "service_id_b", "theme_key", "target_group", "jaccard", "group_id"]
_INT_COLUMNS = ("group_id", "n_services", "n_commissioners", "n_providers", "n_unknown_funding")
_FLOAT_COLUMNS = ("combined_funding", "money_duplicated", "overlap", "population")
_ACRONYMS = {"bme", "lgbt", "lgbtq", "lgbtq+", "sen", "send"}


@dataclass(frozen=True)
class Duplication:
    """`groups`: one row per duplication group (most money potentially duplicated first); `pairs`: every pair of
    members of each group with their overlap."""

    groups: pd.DataFrame
    pairs: pd.DataFrame


def within_group_pairs(group: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """All index pairs (i, j), i < j, of rows in the same group; `group` must be sorted (groups contiguous)."""
    group = np.asarray(group)
    n = len(group)
    if n < 2:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    sizes = np.diff(np.r_[np.flatnonzero(np.r_[True, group[1:] != group[:-1]]), n])
    ends = np.repeat(np.cumsum(sizes), sizes)
    partners = ends - 1 - np.arange(n)
    total = int(partners.sum())
    left = np.repeat(np.arange(n, dtype=np.int64), partners)
    right = left + 1 + (np.arange(total) - np.repeat(np.cumsum(partners) - partners, partners))
    return left, right


def components(n: int, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Connected-component label (smallest member) of each of n nodes, by min-label propagation."""
    label = np.arange(n, dtype=np.int64)
    if len(u) == 0:
        return label
    while True:
        before = label.copy()
        m = np.minimum(label[u], label[v])
        np.minimum.at(label, u, m)
        np.minimum.at(label, v, m)
        label = label[label]
        if np.array_equal(label, before):
            return label


def maximal_cliques(adjacency: dict[int, set[int]]) -> list[list[int]]:
    """Every maximal clique of a small undirected graph (node -> neighbours), each sorted: Bron–Kerbosch with
    Tomita's pivot, iterative (a large clique cannot exhaust the recursion limit), and with the candidates joined
    to every other candidate moved straight into the clique (so a nearly complete graph takes a few steps)."""
    out: list[list[int]] = []

    def push(r: list[int], p: set[int], x: set[int]) -> None:
        universal = [u for u in p if len(adjacency[u] & p) == len(p) - 1]
        if universal:  # in every maximal clique of this branch
            r = [*r, *universal]
            p = p.difference(universal)
            for u in universal:
                x = x & adjacency[u]
        if not p:
            if not x:
                out.append(sorted(r))
            return
        pivot = max(p | x, key=lambda w: len(adjacency[w] & p))
        stack.append((r, p, x, sorted(p - adjacency[pivot], reverse=True)))

    stack: list[tuple[list[int], set[int], set[int], list[int]]] = []
    if adjacency:
        push([], set(adjacency), set())
    while stack:
        r, p, x, todo = stack[-1]
        if not todo:
            stack.pop()
            continue
        v = todo.pop()
        near = adjacency[v]
        p2, x2 = p & near, x & near
        p.discard(v)
        x.add(v)
        push([*r, v], p2, x2)
    return out


def group_label(key: str) -> str:
    """A target group's key as words for a sentence: "young-people" -> "young people", "bme-communities" ->
    "BME communities"."""
    words = str(key).replace("_", " ").replace("-", " ").split()
    return " ".join(w.upper() if w.lower() in _ACRONYMS else w.lower() for w in words)


def duplication(data: ReviewData, as_at: DateLike, *, min_overlap: float = MIN_OVERLAP,
                level: str = "area") -> Duplication:
    """Duplication groups among services current at `as_at`; shared areas are named at `level`.

    Group columns: group_id (1 = most money potentially duplicated), theme_key/theme_name and target_group/
    target_group_name (the one theme and target group every member has and within which they all overlap),
    themes/target_groups (every theme and target group under which these same services form this group; the
    first are theme_key and target_group), n_services, service_ids, services (names; best funded first),
    commissioners, n_commissioners, providers, n_providers, combined_funding (known funding, £ a year),
    money_duplicated (combined_funding less the largest member's), n_unknown_funding (members with no current
    funding line), overlap (the smallest pairwise Jaccard overlap), population (residents of the intersection of
    the members' coverage), shared_area_codes/shared_areas (the areas at `level` holding that intersection, most
    residents first), force_wide (every member covers the whole force), wide (force-wide, or the shared coverage
    spans more than half the areas at `level`: a matter for the whole force, asked once in its section rather
    than as each area's own finding; the county-wide services of Lancashire County Council's 12 districts overlap
    in 7 of the 9 areas).
    Pair columns: service_id_a, service_id_b, theme_key, target_group, jaccard, group_id.
    """
    groups, pairs = _duplication(Context(data, as_at), min_overlap, check_level(level))
    return Duplication(pd.DataFrame(groups, columns=GROUP_COLUMNS), pd.DataFrame(pairs, columns=PAIR_COLUMNS))


def _factorize(values: list, missing) -> np.ndarray:
    """Integer ids of the values in first-seen order; -1 for the `missing` value."""
    seen: dict = {}
    return np.fromiter((-1 if v == missing else seen.setdefault(v, len(seen)) for v in values), dtype=np.int64,
                       count=len(values))


def _funding_known(ctx: Context) -> np.ndarray:
    """Whether each service position has a current funding line (without one its funding is unknown, not £0)."""
    lines, cur = ctx.prep.lines, ctx.line_current
    return np.bincount(lines["pos"][cur], minlength=len(ctx.service_ids)) > 0


def _duplication(ctx: Context, min_overlap: float, level: str) -> tuple[dict, dict]:
    """(group columns, pair columns) as arrays; `duplication` wraps them in frames."""
    known = _funding_known(ctx)
    # The shared cache is keyed by funding and currency; which services have a funding line at all is added here.
    digest = hashlib.blake2b(np.packbits(known).tobytes(), digest_size=16).hexdigest()
    return ctx.shared(("duplication", float(min_overlap), level, digest),
                      lambda: _compute(ctx, min_overlap, level, known))


def _empty() -> tuple[dict, dict]:
    groups = {c: np.empty(0, dtype=object) for c in GROUP_COLUMNS}
    for c in _INT_COLUMNS:
        groups[c] = np.empty(0, dtype=np.int64)
    for c in _FLOAT_COLUMNS:
        groups[c] = np.empty(0, dtype=float)
    groups["force_wide"] = np.empty(0, dtype=bool)
    groups["wide"] = np.empty(0, dtype=bool)
    pairs = {c: np.empty(0, dtype=object) for c in PAIR_COLUMNS}
    pairs["jaccard"], pairs["group_id"] = np.empty(0, dtype=float), np.empty(0, dtype=np.int64)
    return groups, pairs


def _compute(ctx: Context, min_overlap: float, level: str, known: np.ndarray) -> tuple[dict, dict]:
    prep = ctx.prep
    n_svc = len(ctx.service_ids)
    cov_s, cov_a = prep.coverage_atoms  # (service, atom): every sum below over a service's LSOAs is one over atoms
    fine = prep.atoms
    pop = ctx.geo.population
    n_lsoa = max(ctx.geo.n_lsoa, 1)

    # Target groups of each service: (service, group) rows sorted by service, no row twice.
    group_vocab = sorted({g for t in prep.svc_groups for g in t})
    n_groups = max(len(group_vocab), 1)
    g_rows, g_items = explode(prep.svc_groups, {g: i for i, g in enumerate(group_vocab)})
    sg = unique(g_rows * n_groups + g_items)
    sg_svc, sg_group = sg // n_groups, sg % n_groups
    g_ptr = csr(sg_svc, n_svc)

    candidate = ctx.current & ctx.covered & (np.diff(g_ptr) > 0)

    # Coverage sets: services with the same LSOAs share one set (hash of the LSOA list, two 64-bit halves).
    keep = candidate[cov_s]
    cs, ca = cov_s[keep], cov_a[keep]
    if len(cs) == 0:
        return _empty()
    rng = np.random.default_rng(20160721)
    r1, r2 = (rng.integers(0, 2**63, size=n_lsoa, dtype=np.uint64) for _ in range(2))
    starts = np.flatnonzero(np.r_[True, cs[1:] != cs[:-1]])
    owners = cs[starts]
    with np.errstate(over="ignore"):  # sums modulo 2**64: the same whether added LSOA by LSOA or atom by atom
        atom_r1, atom_r2 = (np.add.reduceat(r[fine.members], fine.ptr[:-1]) for r in (r1[:ctx.geo.n_lsoa],
                                                                                       r2[:ctx.geo.n_lsoa]))
        sig = np.stack([np.add.reduceat(atom_r1[ca], starts), np.add.reduceat(atom_r2[ca], starts),
                        np.add.reduceat(fine.size[ca], starts).astype(np.uint64)], axis=1)
    first, set_of = unique_rows(sig)
    svc_set = np.full(n_svc, -1, dtype=np.int64)
    svc_set[owners] = set_of.ravel()
    n_sets = len(first)
    is_rep = np.zeros(n_svc, dtype=bool)
    is_rep[owners[first]] = True
    rep_rows = is_rep[cs]  # one service's atoms stand for each set
    set_of_row, fine_of_row = svc_set[cs[rep_rows]], ca[rep_rows]

    # Atoms: LSOAs covered by exactly the same sets are one unit (a district covered only as a whole is one
    # atom), so overlaps are added up over atoms rather than LSOAs: far fewer pairs at national scale. The
    # coverage atoms (`prep.atoms`) are covered alike by every service, so each lies inside one of these.
    s1, s2 = (rng.integers(0, 2**63, size=n_sets, dtype=np.uint64) for _ in range(2))
    a1 = np.zeros(max(len(fine), 1), dtype=np.uint64)
    a2 = np.zeros(max(len(fine), 1), dtype=np.uint64)
    with np.errstate(over="ignore"):
        np.add.at(a1, fine_of_row, s1[set_of_row])
        np.add.at(a2, fine_of_row, s2[set_of_row])
    if ctx.geo.n_lsoa:
        a1, a2 = a1[fine.of_lsoa], a2[fine.of_lsoa]
    else:
        a1, a2 = np.zeros(n_lsoa, dtype=np.uint64), np.zeros(n_lsoa, dtype=np.uint64)
    _, atom = unique_rows(np.stack([a1, a2], axis=1))
    atom = atom.ravel()[:ctx.geo.n_lsoa]
    n_atoms = int(atom.max()) + 1 if len(atom) else 1
    atom_weight = np.bincount(atom, weights=pop, minlength=n_atoms)
    atom_count = np.bincount(atom, minlength=n_atoms).astype(float)
    pairs_sa = unique(set_of_row * n_atoms + atom[fine.first[fine_of_row]])
    sa_set, sa_atom = pairs_sa // n_atoms, pairs_sa % n_atoms  # sorted by set
    set_ptr = csr(sa_set, n_sets)
    set_weight = np.bincount(sa_set, weights=atom_weight[sa_atom], minlength=n_sets)
    set_count = np.bincount(sa_set, weights=atom_count[sa_atom], minlength=n_sets)

    # Nodes: (theme and target group, coverage set) buckets of services; only nodes of one (theme, group) meet.
    st_svc, st_theme, _ = prep.service_themes
    on = candidate[st_svc]
    st_svc, st_theme = st_svc[on], st_theme[on]
    which, at = gather(g_ptr, st_svc)
    trip = unique((st_theme[which] * n_groups + sg_group[at]) * n_svc + st_svc[which])
    t_tg, t_svc = trip // n_svc, trip % n_svc
    if len(t_svc) == 0:
        return _empty()
    buckets, b_inv = unique_inverse(t_tg * n_sets + svc_set[t_svc])
    nb = len(buckets)
    b_tg, b_set = buckets // n_sets, buckets % n_sets
    members = t_svc[np.argsort(b_inv, kind="stable")]  # each bucket's services, by position
    ptr = csr(b_inv, nb)
    b_size = np.diff(ptr)

    # Edges: bucket pairs of one (theme, group) whose sets overlap enough. Candidates are the pairs whose sets
    # share a district (a coarse, cheap test); the overlap is then computed once per pair of sets, whatever the
    # (theme, group), from the atoms of the smaller set found in the larger.
    sc, sc_full, n_cells = _set_cells(ctx, atom, n_atoms, sa_set, sa_atom)
    cand = _candidate_pairs(sc, n_cells, n_sets, b_tg, b_set)
    ca, cb = cand // nb, cand % nb
    lo, hi = np.minimum(b_set[ca], b_set[cb]), np.maximum(b_set[ca], b_set[cb])
    set_pairs, pair_of_cand = unique_inverse(lo * n_sets + hi)
    p_lo, p_hi = set_pairs // n_sets, set_pairs % n_sets
    n_at = np.diff(set_ptr)
    small = np.where(n_at[p_lo] <= n_at[p_hi], p_lo, p_hi)
    big = np.where(small == p_lo, p_hi, p_lo)
    # A small set lying in districts the big set covers whole is inside it (a project in a district and a
    # county-wide service): its own size is the intersection. Only the other pairs are compared atom by atom.
    which, at = gather(csr(sc // n_cells, n_sets), small)
    key = big[which] * n_cells + sc[at] % n_cells
    pos = np.minimum(np.searchsorted(sc, key), len(sc) - 1)
    outside = ~((sc[pos] == key) & sc_full[pos])
    inside = np.bincount(which, weights=outside.astype(float), minlength=len(set_pairs)) == 0
    inter_w = np.where(inside, set_weight[small], 0.0)
    inter_n = np.where(inside, set_count[small], 0.0)
    rest = np.flatnonzero(~inside)
    which, at = gather(set_ptr, small[rest])
    key = big[rest][which] * n_atoms + sa_atom[at]
    pos = np.minimum(np.searchsorted(pairs_sa, key), len(pairs_sa) - 1)
    found = pairs_sa[pos] == key
    inter_w[rest] = np.bincount(which[found], weights=atom_weight[sa_atom[at][found]], minlength=len(rest))
    inter_n[rest] = np.bincount(which[found], weights=atom_count[sa_atom[at][found]], minlength=len(rest))
    union_w = set_weight[p_lo] + set_weight[p_hi] - inter_w
    union_n = set_count[p_lo] + set_count[p_hi] - inter_n
    with np.errstate(divide="ignore", invalid="ignore"):
        jac = np.where(union_w > 0, inter_w / np.where(union_w > 0, union_w, 1.0),
                       np.where(union_n > 0, inter_n / np.where(union_n > 0, union_n, 1.0), 0.0))
    passed = jac[pair_of_cand] >= min_overlap - 1e-9  # inclusive, whatever floating point makes of exactly 0.5
    ea, eb, ej = ca[passed], cb[passed], jac[pair_of_cand][passed]
    edge_key = cand[passed]  # sorted

    cq, cq_bucket = _cliques(nb, b_size, ea, eb)
    if len(cq) == 0:
        return _empty()

    # Cliques in a fixed order: by (theme, group), then their first node.
    n_cq = int(cq.max()) + 1
    cq_first = np.full(n_cq, nb, dtype=np.int64)
    np.minimum.at(cq_first, cq, cq_bucket)
    used = np.flatnonzero(cq_first < nb)
    rank = used[np.lexsort((cq_first[used], b_tg[cq_first[used]]))]
    new_id = np.full(n_cq, -1, dtype=np.int64)
    new_id[rank] = np.arange(len(rank))
    cq = new_id[cq]
    order = np.lexsort((cq_bucket, cq))
    cq, cq_bucket = cq[order], cq_bucket[order]
    n_cq = len(rank)
    cq_tg = b_tg[cq_bucket[np.r_[0, np.flatnonzero(np.diff(cq)) + 1]]]

    # Services of each clique: (clique, service) rows sorted by clique.
    which, at = gather(ptr, cq_bucket)
    row_cq, row_svc, row_bucket = cq[which], members[at], cq_bucket[which]

    # Different partners: two non-empty commissioner sets, or two provider names.
    comm_id = _factorize([tuple(sorted(c)) for c in prep.svc_commissioners], ())
    prov_id = _factorize(prep.svc_provider.tolist(), "")
    distinct_comm = _distinct_per(row_cq, comm_id[row_svc], n_cq)
    distinct_prov = _distinct_per(row_cq, prov_id[row_svc], n_cq)
    n_members = np.bincount(row_cq, minlength=n_cq)
    ok = (n_members >= 2) & ((distinct_comm >= 2) | (distinct_prov >= 2))
    ok &= ~_inside_another(row_cq, row_svc, cq_tg // n_groups, n_members, ok, n_svc)

    # The same services under several (theme, group): one group, under the first; the others are listed with it.
    h1, h2 = (rng.integers(0, 2**63, size=n_svc, dtype=np.uint64) for _ in range(2))
    cq_start = csr(row_cq, n_cq)[:-1]
    with np.errstate(over="ignore"):
        msig = np.stack([np.add.reduceat(h1[row_svc], cq_start), np.add.reduceat(h2[row_svc], cq_start),
                         n_members.astype(np.uint64), (~ok).astype(np.uint64)], axis=1)
    keeper_of_first, same = unique_rows(msig)  # cliques are in (theme, group) order: the first one is kept
    keeper = keeper_of_first[same.ravel()]
    ok &= keeper == np.arange(n_cq)
    also = [[] for _ in range(n_cq)]
    for c in np.flatnonzero(keeper != np.arange(n_cq)).tolist():
        also[int(keeper[c])].append(int(cq_tg[c]))

    # Figures per clique.
    funding = ctx.funding
    svc_known = known[row_svc]
    combined = np.bincount(row_cq, weights=np.where(svc_known, funding[row_svc], 0.0), minlength=n_cq)
    largest = np.full(n_cq, -np.inf)
    np.maximum.at(largest, row_cq[svc_known], funding[row_svc][svc_known])
    money_dup = np.where(np.isfinite(largest), combined - largest, 0.0)
    n_unknown = np.bincount(row_cq, weights=(~svc_known).astype(float), minlength=n_cq).astype(np.int64)

    # Overlap: the smallest Jaccard overlap between two of the clique's nodes (1 within a node).
    bi, bj = within_group_pairs(cq)
    overlap = np.ones(n_cq)
    if len(bi):
        key = cq_bucket[bi] * nb + cq_bucket[bj]
        pos = np.clip(np.searchsorted(edge_key, key), 0, max(len(edge_key) - 1, 0))
        np.minimum.at(overlap, cq[bi], ej[pos])

    # Shared coverage: the atoms every node of the clique covers, found once per combination of coverage sets
    # (the same sets meet in many themes and target groups).
    n_nodes = np.bincount(cq, minlength=n_cq)
    t1, t2 = (rng.integers(0, 2**63, size=n_sets, dtype=np.uint64) for _ in range(2))
    cq_start = csr(cq, n_cq)[:-1]
    with np.errstate(over="ignore"):
        csig = np.stack([np.add.reduceat(t1[b_set[cq_bucket]], cq_start),
                         np.add.reduceat(t2[b_set[cq_bucket]], cq_start), n_nodes.astype(np.uint64)], axis=1)
    combo_first, combo_of = unique_rows(csig)
    combo_of = combo_of.ravel()
    i_combo, i_atom = _intersections(combo_first, cq, cq_bucket, b_set, set_ptr, sa_atom, pairs_sa, n_atoms)
    n_combo = len(combo_first)
    combo_pop = np.bincount(i_combo, weights=atom_weight[i_atom], minlength=n_combo)
    shared_pop = combo_pop[combo_of]
    force_wide = _force_wide(ctx, atom, n_atoms, i_combo, i_atom, n_combo)[combo_of]
    units = ctx.geo.units(level)
    n_units = max(len(units), 1)
    u_atom, u_unit, u_weight = _atom_units(atom, n_atoms, units.of_lsoa, pop, len(units))
    which, at = gather(csr(u_atom, n_atoms), i_atom)
    cell, cell_inv = unique_inverse(i_combo[which] * n_units + u_unit[at])
    cell_weight = np.bincount(cell_inv, weights=u_weight[at], minlength=len(cell))
    order = np.lexsort((cell % n_units, -cell_weight, cell // n_units))  # by combination, most residents first
    cell_unit, cell_combo = cell[order] % n_units, cell[order] // n_units
    cell_ptr = csr(cell_combo, n_combo)

    # Rank the reported groups: money potentially duplicated, combined funding, size, then (theme, group).
    chosen = np.flatnonzero(ok)
    if len(chosen) == 0:
        return _empty()
    chosen = chosen[np.lexsort((chosen, -n_members[chosen], -combined[chosen], -money_dup[chosen]))]
    group_id = np.zeros(n_cq, dtype=np.int64)
    group_id[chosen] = np.arange(1, len(chosen) + 1)

    # The columns, group by group in rank order; lists (services, partners, areas) are slices of flat arrays.
    svc_order = np.lexsort((ctx.service_ids[row_svc], -np.where(svc_known, funding[row_svc], -np.inf), row_cq))
    row_ptr = csr(row_cq, n_cq)
    svc_sorted = row_svc[svc_order]
    tg = cq_tg[chosen]
    vocab = np.array(group_vocab, dtype=object)
    labels = np.array([group_label(g) for g in group_vocab], dtype=object)
    out: dict[str, np.ndarray] = {
        "group_id": group_id[chosen], "theme_key": ctx.themes.keys[tg // n_groups].astype(object),
        "theme_name": ctx.themes.names[tg // n_groups].astype(object), "target_group": vocab[tg % n_groups],
        "target_group_name": labels[tg % n_groups], "n_services": n_members[chosen].astype(np.int64),
        "combined_funding": combined[chosen], "money_duplicated": money_dup[chosen],
        "n_unknown_funding": n_unknown[chosen], "overlap": overlap[chosen], "population": shared_pop[chosen],
        "force_wide": force_wide[chosen].astype(bool),
    }
    themes, tgroups = [], []
    for k, t in zip(chosen.tolist(), tg.tolist(), strict=True):
        every = sorted([t, *also[k]])
        themes.append(tuple(dict.fromkeys(str(ctx.themes.keys[x // n_groups]) for x in every)))
        tgroups.append(tuple(dict.fromkeys(group_vocab[x % n_groups] for x in sorted(every, key=lambda x: x % n_groups))))
    out["themes"], out["target_groups"] = objects(themes), objects(tgroups)
    starts, ends = row_ptr[chosen].tolist(), row_ptr[chosen + 1].tolist()
    out["service_ids"] = _slices(ctx.service_ids[svc_sorted].tolist(), starts, ends)
    out["services"] = _slices(prep.svc_name[svc_sorted].tolist(), starts, ends)
    for col, (names, item_ptr, items) in (("commissioners", _commissioners(prep)), ("providers", _providers(prep))):
        which, at = gather(item_ptr, row_svc)  # every (clique row, name) pair
        pairs = unique(row_cq[which] * max(len(names), 1) + items[at])
        lists = csr(pairs // max(len(names), 1), n_cq)
        out[col] = _slices(names[pairs % max(len(names), 1)].tolist(), lists[chosen].tolist(),
                           lists[chosen + 1].tolist())
        out[f"n_{col}"] = (lists[chosen + 1] - lists[chosen]).astype(np.int64)
    combo = combo_of[chosen]
    starts, ends = cell_ptr[combo].tolist(), cell_ptr[combo + 1].tolist()
    out["shared_area_codes"] = _slices([str(c) for c in units.codes[cell_unit]], starts, ends)
    out["shared_areas"] = _slices([str(c) for c in units.names[cell_unit]], starts, ends)
    n_shared = np.asarray(ends, dtype=np.int64) - np.asarray(starts, dtype=np.int64)
    out["wide"] = out["force_wide"] | (n_shared * 2 > len(units))
    out = {c: out[c] for c in GROUP_COLUMNS}
    return out, _pairs(ctx, row_cq, row_svc, row_bucket, group_id, cq_tg, n_groups, group_vocab, edge_key, ej, nb)


def _inside_another(row_cq: np.ndarray, row_svc: np.ndarray, cq_theme: np.ndarray, n_members: np.ndarray,
                    ok: np.ndarray, n_svc: int) -> np.ndarray:
    """Whether each clique's services are a strict part of another reported clique's of the same theme (for
    another target group): it says nothing that larger group does not, so it is not reported."""
    keep = ok[row_cq]
    cq, svc = row_cq[keep], row_svc[keep]
    theme = cq_theme[cq]
    order = np.lexsort((cq, svc, theme))
    cq, key = cq[order], theme[order] * n_svc + svc[order]
    i, j = within_group_pairs(key)
    n_cq = len(n_members)
    pair, shared = unique_counts(cq[i] * n_cq + cq[j])  # cq[i] < cq[j]: rows sorted by clique in a group
    a, b = pair // n_cq, pair % n_cq
    inside = np.zeros(n_cq, dtype=bool)
    inside[a[(shared == n_members[a]) & (n_members[b] > shared)]] = True
    inside[b[(shared == n_members[b]) & (n_members[a] > shared)]] = True
    return inside


def _slices(flat: list, starts: list[int], ends: list[int]) -> np.ndarray:
    """An object array of tuples: flat[start:end] for each (start, end)."""
    return objects([tuple(flat[a:b]) for a, b in zip(starts, ends, strict=True)])


def _commissioners(prep) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(names sorted, pointer by service position, name index of each row): every service's commissioners."""
    names = sorted({c for t in prep.svc_commissioners for c in t})
    rows, items = explode(prep.svc_commissioners, {c: i for i, c in enumerate(names)})
    return np.array(names, dtype=object), csr(rows, len(prep.svc_commissioners)), items


def _providers(prep) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(names sorted, pointer by service position, name index of each row): every service's provider, if named."""
    names = sorted(set(prep.svc_provider.tolist()) - {""})
    index = {c: i for i, c in enumerate(names)}
    item = np.fromiter((index.get(p, -1) for p in prep.svc_provider.tolist()), dtype=np.int64,
                       count=len(prep.svc_provider))
    rows = np.flatnonzero(item >= 0)
    return np.array(names, dtype=object), csr(rows, len(item)), item[rows]


def _distinct_per(key: np.ndarray, value: np.ndarray, n: int) -> np.ndarray:
    """How many different non-negative values each key has (rows keyed by `key` in 0..n-1)."""
    ok = value >= 0
    span = int(value.max()) + 1 if ok.any() else 1
    pairs = unique(key[ok] * span + value[ok])
    return np.bincount(pairs // span, minlength=n)


def _cliques(nb: int, size: np.ndarray, ea: np.ndarray, eb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Maximal cliques of the bucket graph holding two or more services: (clique id, bucket) rows.

    A component whose nodes all overlap (or a lone node) is one clique, found for all of them at once; the other
    components (usually none or a handful) are searched one by one."""
    label = components(nb, ea, eb)
    _, node_comp = unique_inverse(label)
    n_comp = int(node_comp.max()) + 1 if nb else 0
    comp_nodes = np.bincount(node_comp, minlength=n_comp)
    comp_edges = np.bincount(node_comp[ea], minlength=n_comp)
    comp_services = np.bincount(node_comp, weights=size, minlength=n_comp)
    complete = comp_edges * 2 == comp_nodes * (comp_nodes - 1)
    whole = complete[node_comp] & (comp_services[node_comp] >= 2)
    cq_parts, bucket_parts = [node_comp[whole]], [np.flatnonzero(whole)]
    partial = ~complete[node_comp[ea]]
    if partial.any():
        pc, pa, pb = node_comp[ea[partial]], ea[partial], eb[partial]
        order = np.argsort(pc, kind="stable")
        pc, pa, pb = pc[order], pa[order], pb[order]
        bounds = np.flatnonzero(np.r_[True, pc[1:] != pc[:-1], True])
        next_id = n_comp
        for s, e in zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True):
            adjacency: dict[int, set[int]] = {}
            for u, v in zip(pa[s:e].tolist(), pb[s:e].tolist(), strict=True):
                adjacency.setdefault(u, set()).add(v)
                adjacency.setdefault(v, set()).add(u)
            for clique in maximal_cliques(adjacency):
                cq_parts.append(np.full(len(clique), next_id, dtype=np.int64))
                bucket_parts.append(np.array(clique, dtype=np.int64))
                next_id += 1
    return np.concatenate(cq_parts), np.concatenate(bucket_parts)


def _set_cells(ctx: Context, atom: np.ndarray, n_atoms: int, sa_set: np.ndarray,
               sa_atom: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """(set * n_cells + cell keys, sorted; whether the set covers that cell whole; n_cells). Cells are districts
    (an LSOA with no district is a cell of its own): two sets can only overlap where they share a cell."""
    districts = ctx.geo.units("district")
    n_lsoa = len(atom)
    cell_of_lsoa = np.where(districts.of_lsoa >= 0, districts.of_lsoa, len(districts) + np.arange(n_lsoa))
    n_cells = len(districts) + n_lsoa
    ac, ac_lsoas = unique_counts(atom * n_cells + cell_of_lsoa)  # (atom, cell) and its LSOAs, sorted by atom
    which, at = gather(csr(ac // n_cells, n_atoms), sa_atom)
    sc, inv = unique_inverse(sa_set[which] * n_cells + ac[at] % n_cells)
    lsoas = np.bincount(inv, weights=ac_lsoas[at], minlength=len(sc))
    return sc, lsoas >= np.bincount(cell_of_lsoa, minlength=n_cells)[sc % n_cells], n_cells


def _candidate_pairs(sc: np.ndarray, n_cells: int, n_sets: int, b_tg: np.ndarray, b_set: np.ndarray) -> np.ndarray:
    """Pairs of buckets (a * n_buckets + b, a < b, sorted) of one (theme, group) whose sets share a cell: every
    pair of overlapping sets is among them."""
    nb = len(b_tg)
    which, at = gather(csr(sc // n_cells, n_sets), b_set)
    cell = sc[at] % n_cells
    order = np.lexsort((which, cell, b_tg[which]))
    which, cell = which[order], cell[order]
    i, j = within_group_pairs(b_tg[which] * n_cells + cell)
    return unique(which[i] * nb + which[j])  # which[i] < which[j]: rows sorted by bucket in a (tg, cell)


def _intersections(combo_first: np.ndarray, cq: np.ndarray, cq_bucket: np.ndarray, b_set: np.ndarray,
                   set_ptr: np.ndarray, sa_atom: np.ndarray, pairs_sa: np.ndarray,
                   n_atoms: int) -> tuple[np.ndarray, np.ndarray]:
    """(combination, atom) rows: the atoms every set of each combination covers (the atoms of its smallest set
    that each of its other sets holds too). A combination is given by one clique having it (`combo_first`)."""
    n_combo = len(combo_first)
    combo_of_clique = np.full(int(cq.max()) + 1, -1, dtype=np.int64)
    combo_of_clique[combo_first] = np.arange(n_combo)
    node = combo_of_clique[cq] >= 0
    n_combo_nodes = combo_of_clique[cq[node]]
    node_set = b_set[cq_bucket[node]]
    n_at = np.diff(set_ptr)
    order = np.lexsort((node_set, n_at[node_set], n_combo_nodes))  # each combination's smallest set first
    n_combo_nodes, node_set = n_combo_nodes[order], node_set[order]
    starts = np.r_[0, np.flatnonzero(np.diff(n_combo_nodes)) + 1]
    which, at = gather(set_ptr, node_set[starts])  # candidates: the smallest set's atoms
    cand_combo, cand_atom = which, sa_atom[at]
    cand_ptr = csr(cand_combo, n_combo)
    which, at = gather(cand_ptr, n_combo_nodes)  # every set of the combination, against every candidate
    key = node_set[which] * n_atoms + cand_atom[at]
    pos = np.minimum(np.searchsorted(pairs_sa, key), len(pairs_sa) - 1)
    held = np.bincount(at, weights=(pairs_sa[pos] == key).astype(float), minlength=len(cand_atom))
    sizes = np.bincount(n_combo_nodes, minlength=n_combo)
    keep = held >= sizes[cand_combo]
    return cand_combo[keep], cand_atom[keep]


def _atom_units(atom: np.ndarray, n_atoms: int, of_lsoa: np.ndarray, pop: np.ndarray,
                n_units: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(atom, unit, residents) rows sorted by atom: which units each atom's LSOAs lie in."""
    ok = of_lsoa >= 0
    n_units = max(n_units, 1)
    au, inv = unique_inverse(atom[ok] * n_units + of_lsoa[ok])
    return au // n_units, au % n_units, np.bincount(inv, weights=pop[ok], minlength=len(au))


def _force_wide(ctx: Context, atom: np.ndarray, n_atoms: int, i_cq: np.ndarray, i_atom: np.ndarray,
                n_cq: int) -> np.ndarray:
    """Whether each clique's shared coverage holds every LSOA of a force (of the whole map when it has none)."""
    forces = ctx.geo.units("force")
    of_lsoa = forces.of_lsoa if len(forces) else np.zeros(len(atom), dtype=np.int64)
    n_forces = max(len(forces), 1)
    lsoas = np.ones(len(atom))
    f_atom, f_unit, f_count = _atom_units(atom, n_atoms, of_lsoa, lsoas, n_forces)
    total = np.bincount(of_lsoa[of_lsoa >= 0], minlength=n_forces)
    which, at = gather(csr(f_atom, n_atoms), i_atom)
    cf, inv = unique_inverse(i_cq[which] * n_forces + f_unit[at])
    got = np.bincount(inv, weights=f_count[at], minlength=len(cf))
    whole = (got >= total[cf % n_forces]) & (total[cf % n_forces] > 0)
    out = np.zeros(n_cq, dtype=bool)
    out[cf[whole] // n_forces] = True
    return out


def _pairs(ctx: Context, row_cq: np.ndarray, row_svc: np.ndarray, row_bucket: np.ndarray, group_id: np.ndarray,
           cq_tg: np.ndarray, n_groups: int, group_vocab: list[str], edge_key: np.ndarray, ej: np.ndarray,
           nb: int) -> dict:
    """Every pair of members of each reported group, with their Jaccard overlap (1 for the same coverage)."""
    keep = group_id[row_cq] > 0
    g, sid, bucket = group_id[row_cq[keep]], ctx.service_ids[row_svc[keep]], row_bucket[keep]
    tg = cq_tg[row_cq[keep]]
    order = np.lexsort((sid, g))
    g, sid, bucket, tg = g[order], sid[order], bucket[order], tg[order]
    i, j = within_group_pairs(g)
    lo, hi = np.minimum(bucket[i], bucket[j]), np.maximum(bucket[i], bucket[j])
    jac = np.ones(len(i))
    cross = lo != hi
    if cross.any():
        jac[cross] = ej[np.searchsorted(edge_key, lo[cross] * nb + hi[cross])]
    t = tg[i]
    return {"service_id_a": sid[i], "service_id_b": sid[j],
            "theme_key": ctx.themes.keys[t // n_groups].astype(object),
            "target_group": np.array([group_vocab[x] for x in (t % n_groups).tolist()], dtype=object),
            "jaccard": jac, "group_id": g[i]}
