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

How it stays sparse (national scale: 34,753 LSOAs, 100,000 services, about 0.6 s): services are compared only
within a (theme, target group). Services with identical coverage share one "coverage set" (found by hashing their
LSOA lists, a district at a time: a service's run of atoms over a whole district adds the district's sum), and
LSOAs covered by exactly the same sets are merged into "atoms". The services of one (theme, target group, coverage
set) all overlap each other fully and everything else alike, so they are one node of the overlap graph. Candidate
edges are the node pairs of one (theme, target group) whose sets share a district; the Jaccard overlap is then
computed once per pair of sets, whatever the theme: a set lying in districts the other covers whole is inside it, a
pair that could not reach the threshold even if the smaller set's residents in each shared district were all
shared is dropped, and only the remaining pairs are compared atom by atom (the smaller set's atoms looked up in a
bitmap of the larger's). Never a dense service-by-service matrix. Cliques are found on that small graph: a
connected component whose nodes all overlap is one clique (the usual case, found without a loop), a tree's cliques
are its edges, and only the other components are searched by Bron–Kerbosch with pivoting. The shared coverage is
worked out once per combination of coverage sets. Rows are sorted by one integer key wherever that is possible
(NumPy's default sort, several times faster than a stable or several-key sort), and the listed names are built
into tuples by zip, all the lists of one length at once.
"""

from __future__ import annotations

import hashlib
import itertools
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


def _unique_rows(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """`context.unique_rows` (first occurrence of each distinct row, rows in lexicographic order; each row's
    number), for rows whose first column nearly always tells different rows apart (hashes): one sort of that
    column; each run of equal first columns is one row unless it holds different rows, and only such runs are
    sorted by every column (then row number)."""
    if len(rows) < 2 or rows.shape[1] < 2:
        return unique_rows(rows)
    order = np.argsort(rows[:, 0])
    s = rows[order]
    same = s[1:, 0] == s[:-1, 0]
    clash = same & (s[1:, 1:] != s[:-1, 1:]).any(axis=1)
    if clash.any():
        run = np.cumsum(np.r_[True, ~same]) - 1
        at = np.flatnonzero(np.isin(run, run[1:][clash]))
        sub = order[at]
        order[at] = sub[np.lexsort((sub, *rows[sub].T[::-1]))]
        s = rows[order]
        new = np.r_[True, (s[1:] != s[:-1]).any(axis=1)]
    else:
        new = np.r_[True, ~same]
    inverse = np.empty(len(rows), dtype=np.int64)
    inverse[order] = np.cumsum(new) - 1
    return np.minimum.reduceat(order, np.flatnonzero(new)).astype(np.int64, copy=False), inverse


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
    group_vocab, sg_group, g_ptr = _service_groups(prep)
    n_groups = max(len(group_vocab), 1)

    candidate = ctx.current & ctx.covered & (np.diff(g_ptr) > 0)

    # Coverage sets: services with the same LSOAs share one set (hash of the LSOA list, two 64-bit halves). A
    # service's atoms come in runs, one a cell (`prep.service_cells`): a run over its whole cell adds the cell's sum.
    run_svc, run_cell, run_start = prep.service_cells
    run_ptr = np.r_[run_start, len(cov_s)]
    on = np.flatnonzero(candidate[run_svc])
    if len(on) == 0:
        return _empty()
    rng = np.random.default_rng(20160721)
    r1, r2 = (rng.integers(0, 2**63, size=n_lsoa, dtype=np.uint64) for _ in range(2))
    with np.errstate(over="ignore"):  # sums modulo 2**64: the same whichever way they are added up
        atom_key = np.stack([np.add.reduceat(r[fine.members], fine.ptr[:-1]) for r in (r1[:ctx.geo.n_lsoa],
                                                                                       r2[:ctx.geo.n_lsoa])]
                            + [fine.size.astype(np.uint64)], axis=1)
        cell_key = np.add.reduceat(atom_key, fine.cell_first, axis=0)
        run_key = cell_key[run_cell[on]]
        part = on[np.diff(run_ptr)[on] != np.diff(np.r_[fine.cell_first, len(fine)])[run_cell[on]]]
        if len(part):
            which, at = gather(run_ptr, part)
            run_key[np.searchsorted(on, part)] = np.add.reduceat(atom_key[cov_a[at]], csr(which, len(part))[:-1],
                                                                 axis=0)
        starts = np.flatnonzero(np.r_[True, run_svc[on][1:] != run_svc[on][:-1]])
        owners = run_svc[on][starts]
        sig = np.add.reduceat(run_key, starts, axis=0)
    first, set_of = _unique_rows(sig)
    svc_set = np.full(n_svc, -1, dtype=np.int64)
    svc_set[owners] = set_of.ravel()
    n_sets = len(first)
    set_of_row, at = gather(run_ptr[prep.cell_ptr], owners[first])  # one service's atoms stand for each set
    fine_of_row = cov_a[at]

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
    _, atom = _unique_rows(np.stack([a1, a2], axis=1))
    atom = atom.ravel()[:ctx.geo.n_lsoa]
    n_atoms = int(atom.max()) + 1 if len(atom) else 1
    atom_weight = np.bincount(atom, weights=pop, minlength=n_atoms)
    atom_count = np.bincount(atom, minlength=n_atoms).astype(float)
    pairs_sa = unique(set_of_row * n_atoms + atom[fine.first[fine_of_row]], grouped=True)  # rows by set
    sa_set, sa_atom = pairs_sa // n_atoms, pairs_sa % n_atoms  # sorted by set
    set_ptr = csr(sa_set, n_sets)
    holds = _Bitmap(sa_set, sa_atom, n_sets, n_atoms)
    set_weight = np.bincount(sa_set, weights=atom_weight[sa_atom], minlength=n_sets)
    set_count = np.bincount(sa_set, weights=atom_count[sa_atom], minlength=n_sets)

    # Nodes: (theme and target group, coverage set) buckets of services; only nodes of one (theme, group) meet.
    st_svc, st_theme, _ = prep.service_themes
    on = candidate[st_svc]
    st_svc, st_theme = st_svc[on], st_theme[on]
    which, at = gather(g_ptr, st_svc)
    # One sort of (theme and group, set, service) keys: no row twice, each bucket's rows together, by position.
    svc = st_svc[which]
    trip = unique(((st_theme[which] * n_groups + sg_group[at]) * n_sets + svc_set[svc]) * n_svc + svc)
    if len(trip) == 0:
        return _empty()
    bucket_key, members = trip // n_svc, trip % n_svc  # members: each bucket's services, by position
    new = np.r_[True, bucket_key[1:] != bucket_key[:-1]]
    buckets, b_inv = bucket_key[new], np.cumsum(new) - 1
    nb = len(buckets)
    b_tg, b_set = buckets // n_sets, buckets % n_sets
    ptr = csr(b_inv, nb)
    b_size = np.diff(ptr)

    # Edges: bucket pairs of one (theme, group) whose sets overlap enough. Candidates are the pairs whose sets
    # share a district (a coarse, cheap test); the overlap is then computed once per pair of sets, whatever the
    # (theme, group), from the atoms of the smaller set found in the larger.
    sc, sc_full, sc_weight, n_cells = _set_cells(ctx, atom, n_atoms, sa_set, sa_atom, pop)
    cand = _candidate_pairs(sc, n_cells, n_sets, b_tg, b_set)
    ca, cb = cand // nb, cand % nb
    lo, hi = np.minimum(b_set[ca], b_set[cb]), np.maximum(b_set[ca], b_set[cb])
    set_pairs, pair_of_cand = unique_inverse(lo * n_sets + hi, grouped=True)  # ascending in each (theme, group)
    p_lo, p_hi = set_pairs // n_sets, set_pairs % n_sets
    n_at = np.diff(set_ptr)
    small = np.where(n_at[p_lo] <= n_at[p_hi], p_lo, p_hi)
    big = np.where(small == p_lo, p_hi, p_lo)
    # A small set lying in districts the big set covers whole is inside it (a project in a district and a
    # county-wide service): its own size is the intersection. Only the other pairs are compared atom by atom, and
    # not those that cannot overlap enough even if, in each district both cover, the smaller share lay inside the
    # larger (residents are never negative; the margin is far above rounding): they are left at 0.
    which, at = gather(csr(sc // n_cells, n_sets), small)
    key = big[which] * n_cells + sc[at] % n_cells
    pos = np.minimum(np.searchsorted(sc, key), len(sc) - 1)
    both = sc[pos] == key
    inside = np.bincount(which, weights=(~(both & sc_full[pos])).astype(float), minlength=len(set_pairs)) == 0
    bound = np.bincount(which, weights=np.where(both, np.minimum(sc_weight[at], sc_weight[pos]), 0.0),
                        minlength=len(set_pairs))
    total = set_weight[small] + set_weight[big]
    hopeless = (total > 0) & (bound < (min_overlap - 1e-6) * (total - bound))
    inter_w = np.where(inside, set_weight[small], 0.0)
    inter_n = np.where(inside, set_count[small], 0.0)
    rest = np.flatnonzero(~inside & ~hopeless)
    which, at = gather(set_ptr, small[rest])
    found_atom = np.where(holds(big[rest][which], sa_atom[at]), sa_atom[at], n_atoms)  # n_atoms: not held
    inter_w[rest] = np.bincount(which, weights=np.r_[atom_weight, 0.0][found_atom], minlength=len(rest))
    inter_n[rest] = np.bincount(which, weights=np.r_[atom_count, 0.0][found_atom], minlength=len(rest))
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
    rank = used[np.argsort((b_tg[cq_first[used]] * nb + cq_first[used]) * n_cq + used)]
    new_id = np.full(n_cq, -1, dtype=np.int64)
    new_id[rank] = np.arange(len(rank))
    cq = new_id[cq]
    order = np.argsort(cq * nb + cq_bucket)
    cq, cq_bucket = cq[order], cq_bucket[order]
    n_cq = len(rank)
    cq_tg = b_tg[cq_bucket[np.r_[0, np.flatnonzero(np.diff(cq)) + 1]]]

    # Services of each clique: (clique, service) rows sorted by clique.
    row_node, at = gather(ptr, cq_bucket)  # row_node: the clique's node (a row of cq) the service stands in
    row_cq, row_svc = cq[row_node], members[at]

    # Different partners: two non-empty commissioner sets, or two provider names.
    partners = _partners(prep)
    comm_set = partners.comm_set[row_svc]
    n_comm_sets, n_prov = max(len(partners.comm_empty), 1), max(len(partners.provider_names), 1)
    cq_comm_sets = _distinct_pairs(row_cq, np.where(partners.comm_empty[comm_set], -1, comm_set), n_comm_sets)
    cq_providers = _distinct_pairs(row_cq, partners.provider[row_svc], n_prov)  # (clique, provider) keys
    distinct_comm = np.bincount(cq_comm_sets // n_comm_sets, minlength=n_cq)
    distinct_prov = np.bincount(cq_providers // n_prov, minlength=n_cq)
    n_members = np.bincount(row_cq, minlength=n_cq)
    ok = (n_members >= 2) & ((distinct_comm >= 2) | (distinct_prov >= 2))
    ok &= ~_inside_another(row_cq, row_svc, cq_tg // n_groups, n_members, ok, n_svc)

    # The same services under several (theme, group): one group, under the first; the others are listed with it.
    h1, h2 = (rng.integers(0, 2**63, size=n_svc, dtype=np.uint64) for _ in range(2))
    cq_start = csr(row_cq, n_cq)[:-1]
    with np.errstate(over="ignore"):
        msig = np.stack([np.add.reduceat(h1[row_svc], cq_start), np.add.reduceat(h2[row_svc], cq_start),
                         n_members.astype(np.uint64), (~ok).astype(np.uint64)], axis=1)
    keeper_of_first, same = _unique_rows(msig)  # cliques are in (theme, group) order: the first one is kept
    keeper = keeper_of_first[same.ravel()]
    repeat = np.flatnonzero(keeper != np.arange(n_cq))
    ok &= keeper == np.arange(n_cq)

    # Figures per clique.
    funding = ctx.funding
    svc_known = known[row_svc]
    combined = np.bincount(row_cq, weights=np.where(svc_known, funding[row_svc], 0.0), minlength=n_cq)
    largest = np.full(n_cq, -np.inf)
    np.maximum.at(largest, row_cq[svc_known], funding[row_svc][svc_known])
    money_dup = np.where(np.isfinite(largest), combined - largest, 0.0)
    n_unknown = np.bincount(row_cq, weights=(~svc_known).astype(float), minlength=n_cq).astype(np.int64)

    # Overlap: the smallest Jaccard overlap between two of the clique's nodes (1 within a node). Every clique's
    # overlaps are kept as a small square in one flat array: node a's row starts at row_start[a], and node b's
    # column is its place in the clique (b after a).
    n_nodes = np.bincount(cq, minlength=n_cq)
    place = np.arange(len(cq)) - csr(cq, n_cq)[:-1][cq]
    square = np.r_[0, np.cumsum(n_nodes * n_nodes)]
    row_start = square[cq] + place * n_nodes[cq]
    node_jaccard = np.ones(int(square[-1]))
    bi, bj = within_group_pairs(cq)
    overlap = np.ones(n_cq)
    if len(bi):
        key = cq_bucket[bi] * nb + cq_bucket[bj]
        pos = np.clip(np.searchsorted(edge_key, key), 0, max(len(edge_key) - 1, 0))
        np.minimum.at(overlap, cq[bi], ej[pos])
        node_jaccard[row_start[bi] + place[bj]] = ej[pos]

    # Shared coverage: the atoms every node of the clique covers, found once per combination of coverage sets
    # (the same sets meet in many themes and target groups).
    t1, t2 = (rng.integers(0, 2**63, size=n_sets, dtype=np.uint64) for _ in range(2))
    cq_start = csr(cq, n_cq)[:-1]
    with np.errstate(over="ignore"):
        csig = np.stack([np.add.reduceat(t1[b_set[cq_bucket]], cq_start),
                         np.add.reduceat(t2[b_set[cq_bucket]], cq_start), n_nodes.astype(np.uint64)], axis=1)
    combo_first, combo_of = _unique_rows(csig)
    combo_of = combo_of.ravel()
    i_combo, i_atom = _intersections(combo_first, cq, cq_bucket, b_set, set_ptr, sa_atom, holds,
                                     set_pairs[inside], n_sets)
    n_combo = len(combo_first)
    combo_pop = np.bincount(i_combo, weights=atom_weight[i_atom], minlength=n_combo)
    shared_pop = combo_pop[combo_of]
    force_wide = _force_wide(ctx, atom, n_atoms, i_combo, i_atom, n_combo)[combo_of]
    units = ctx.geo.units(level)
    n_units = max(len(units), 1)
    u_atom, u_unit, u_weight = _atom_units(atom, n_atoms, units.of_lsoa, pop, len(units))
    which, at = gather(csr(u_atom, n_atoms), i_atom)
    cell, cell_inv = unique_inverse(i_combo[which] * n_units + u_unit[at], grouped=True)  # rows by combination
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
    best_funded = np.empty(n_svc, dtype=np.int64)  # each service's place: known funding, most first, then id
    best_funded[np.lexsort((ctx.service_ids, -np.where(known, funding, -np.inf)))] = np.arange(n_svc)
    svc_order = np.argsort(row_cq * n_svc + best_funded[row_svc], kind="stable")  # rows by clique already
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
    out["themes"], out["target_groups"] = _every_theme_and_group(ctx, group_vocab, chosen, tg, keeper[repeat],
                                                                 cq_tg[repeat])
    starts, ends = row_ptr[chosen], row_ptr[chosen + 1]
    out["service_ids"] = _slices(ctx.service_ids, starts, ends, svc_sorted)
    out["services"] = _slices(prep.svc_name, starts, ends, svc_sorted)
    # Each clique's commissioners: those of its distinct commissioner sets (found above, as its providers were).
    comm_which, comm_at = gather(partners.comm_ptr, cq_comm_sets % n_comm_sets)
    n_names = max(len(partners.comm_names), 1)
    cq_comms = unique(cq_comm_sets[comm_which] // n_comm_sets * n_names + partners.comm_items[comm_at],
                       grouped=True)
    for col, names, pairs, span in (("commissioners", partners.comm_names, cq_comms, n_names),
                                    ("providers", partners.provider_names, cq_providers, n_prov)):
        lists = csr(pairs // span, n_cq)
        out[col] = _slices(names, lists[chosen], lists[chosen + 1], pairs % span)
        out[f"n_{col}"] = (lists[chosen + 1] - lists[chosen]).astype(np.int64)
    combo = combo_of[chosen]
    for col, names in (("shared_area_codes", units.codes), ("shared_areas", units.names)):  # once a combination
        out[col] = _slices(objects([str(c) for c in names]), cell_ptr[:-1], cell_ptr[1:], cell_unit)[combo]
    n_shared = cell_ptr[combo + 1] - cell_ptr[combo]
    out["wide"] = out["force_wide"] | (n_shared * 2 > len(units))
    out = {c: out[c] for c in GROUP_COLUMNS}
    return out, _pairs(ctx, row_cq, row_svc, row_node, group_id, cq_tg, n_groups, group_vocab,
                       row_start, place, node_jaccard, row_ptr, chosen)


def _inside_another(row_cq: np.ndarray, row_svc: np.ndarray, cq_theme: np.ndarray, n_members: np.ndarray,
                    ok: np.ndarray, n_svc: int) -> np.ndarray:
    """Whether each clique's services are a strict part of another reported clique's of the same theme (for
    another target group): it says nothing that larger group does not, so it is not reported."""
    keep = ok[row_cq]
    cq, svc = row_cq[keep], row_svc[keep]
    theme = cq_theme[cq]
    n_cq = len(n_members)
    order = np.argsort((theme * n_svc + svc) * n_cq + cq)
    cq, key = cq[order], theme[order] * n_svc + svc[order]
    i, j = within_group_pairs(key)
    # cq[i] < cq[j]: rows sorted by clique in a group, so each group's pairs ascending (a stable sort merges them)
    keys = np.sort(cq[i] * n_cq + cq[j], kind="stable")
    starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]]) if len(keys) else np.empty(0, dtype=np.int64)
    pair, shared = keys[starts], np.diff(np.r_[starts, len(keys)])
    a, b = pair // n_cq, pair % n_cq
    inside = np.zeros(n_cq, dtype=bool)
    inside[a[(shared == n_members[a]) & (n_members[b] > shared)]] = True
    inside[b[(shared == n_members[b]) & (n_members[a] > shared)]] = True
    return inside


def _slices(values: np.ndarray, starts: np.ndarray, ends: np.ndarray, index: np.ndarray | None = None) -> np.ndarray:
    """An object array of tuples: for each (start, end), values[index[start:end]] (values[start:end] without an
    index) as Python objects. The tuples are built by zip, all those of one length at once."""
    starts = np.asarray(starts, dtype=np.int64)
    lengths = np.asarray(ends, dtype=np.int64) - starts
    out = np.empty(len(starts), dtype=object)
    order = np.argsort(lengths, kind="stable")
    bounds = np.flatnonzero(np.r_[True, lengths[order][1:] != lengths[order][:-1], True]) if len(order) else []
    for a, b in zip(bounds[:-1], bounds[1:], strict=True):
        at, n = order[a:b], int(lengths[order[a]])
        pos = (starts[at][:, None] + np.arange(n)).ravel()
        flat = iter(values[pos if index is None else index[pos]].tolist())
        out[at] = np.fromiter(zip(*[flat] * n, strict=True) if n else itertools.repeat((), len(at)), dtype=object,
                              count=len(at))
    return out


def _first_seen(values: list) -> tuple[np.ndarray, np.ndarray]:
    """(where each distinct value first occurs, in that order; which of them each value is)."""
    seen: dict = {}
    first = np.fromiter(map(seen.setdefault, values, range(len(values))), dtype=np.int64, count=len(values))
    is_first = np.zeros(len(values), dtype=bool)
    is_first[first] = True
    return np.flatnonzero(is_first), (np.cumsum(is_first) - 1)[first]


def _service_groups(prep) -> tuple[list[str], np.ndarray, np.ndarray]:
    """(the target groups sorted, each service's groups sorted (no group twice), pointer array by service): worked
    out once for each distinct tuple of groups, and kept with the prepared arrays (they depend on the data only)."""
    key = ("duplication", "groups")
    if key not in prep.cache:
        tuples = prep.svc_groups
        first, tuple_of = _first_seen(tuples)
        distinct = [tuples[i] for i in first.tolist()]
        vocab = sorted({g for t in distinct for g in t})
        n_groups = max(len(vocab), 1)
        rows, items = explode(distinct, {g: i for i, g in enumerate(vocab)})
        pairs = unique(rows * n_groups + items)
        which, at = gather(csr(pairs // n_groups, len(distinct)), tuple_of)
        prep.cache[key] = (vocab, pairs[at] % n_groups, csr(which, len(tuples)))
    return prep.cache[key]


@dataclass(frozen=True, eq=False)
class _Partners:
    """Who commissions and who runs each service position, as numbers."""

    comm_set: np.ndarray  # which distinct set of commissioners each service has
    comm_empty: np.ndarray  # per set: no commissioner recorded
    comm_ptr: np.ndarray  # the commissioners of set k are comm_names[comm_items[comm_ptr[k]:comm_ptr[k + 1]]]
    comm_items: np.ndarray
    comm_names: np.ndarray  # sorted
    provider: np.ndarray  # each service's provider in provider_names, -1 when none is named
    provider_names: np.ndarray  # sorted


def _partners(prep) -> _Partners:
    """The services' partners (they depend on the data only: kept with the prepared arrays). The few distinct
    commissioner sets and provider names are worked on, not the services one by one."""
    key = ("duplication", "partners")
    if key not in prep.cache:
        comms = prep.svc_commissioners
        first, set_of = _first_seen(comms)
        sets = [tuple(sorted(comms[i])) for i in first.tolist()]  # the same commissioners in any order are one set
        first, same = _first_seen(sets)
        sets = [sets[i] for i in first.tolist()]
        comm_names = sorted({c for t in sets for c in t})
        rows, items = explode(sets, {c: i for i, c in enumerate(comm_names)})
        providers = prep.svc_provider.tolist()
        first, prov_of = _first_seen(providers)
        distinct = [providers[i] for i in first.tolist()]
        provider_names = sorted(set(distinct) - {""})
        index = {c: i for i, c in enumerate(provider_names)}
        prep.cache[key] = _Partners(
            same[set_of], np.array([not t for t in sets], dtype=bool), csr(rows, len(sets)), items,
            np.array(comm_names, dtype=object),
            np.array([index.get(p, -1) for p in distinct], dtype=np.int64)[prov_of],
            np.array(provider_names, dtype=object))
    return prep.cache[key]


def _every_theme_and_group(ctx: Context, group_vocab: list[str], chosen: np.ndarray, tg: np.ndarray,
                           also_of: np.ndarray, also_tg: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The themes and target groups of each reported clique (its own (theme, group) `tg`, and those of the
    cliques of the same services `also_of` it stands for), in the themes table's order and the groups' order."""
    n_groups = max(len(group_vocab), 1)
    keys = [str(k) for k in ctx.themes.keys]
    themes = objects([(k,) for k in keys])[tg // n_groups]
    groups = objects([(g,) for g in group_vocab])[tg % n_groups]
    rank = np.full(int(max(chosen.max(initial=-1), also_of.max(initial=-1))) + 1, -1, dtype=np.int64)
    rank[chosen] = np.arange(len(chosen))
    extra: dict[int, list[int]] = {}
    at = rank[also_of]
    for i, t in zip(at[at >= 0].tolist(), also_tg[at >= 0].tolist(), strict=True):
        extra.setdefault(i, []).append(t)
    for i, more in extra.items():
        every = sorted([int(tg[i]), *more])
        themes[i] = tuple(dict.fromkeys(keys[x // n_groups] for x in every))
        groups[i] = tuple(dict.fromkeys(group_vocab[x % n_groups] for x in sorted(every, key=lambda x: x % n_groups)))
    return themes, groups


def _distinct_pairs(key: np.ndarray, value: np.ndarray, span: int) -> np.ndarray:
    """The distinct (key, value) pairs of the rows with a non-negative value (below `span`), as sorted
    key * span + value; the rows come by key."""
    ok = value >= 0
    return unique(key[ok] * span + value[ok], grouped=True)


def _cliques(nb: int, size: np.ndarray, ea: np.ndarray, eb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Maximal cliques of the bucket graph holding two or more services: (clique id, bucket) rows.

    A component whose nodes all overlap (or a lone node) is one clique, found for all of them at once, and so
    are the edges of a component that is a tree (with no triangle, its maximal cliques are its edges). The other
    components (a few thousand at national scale) are searched one by one. Clique ids only ever order cliques
    with the same first node (see `_compute`): those of one component, which the ids below number as
    `maximal_cliques` lists them (it lists a tree's edges by first node, then second, as the edges come here)."""
    label = components(nb, ea, eb)
    _, node_comp = unique_inverse(label)
    n_comp = int(node_comp.max()) + 1 if nb else 0
    comp_nodes = np.bincount(node_comp, minlength=n_comp)
    comp_edges = np.bincount(node_comp[ea], minlength=n_comp)
    comp_services = np.bincount(node_comp, weights=size, minlength=n_comp)
    complete = comp_edges * 2 == comp_nodes * (comp_nodes - 1)
    tree = ~complete & (comp_edges == comp_nodes - 1)
    whole = complete[node_comp] & (comp_services[node_comp] >= 2)
    in_tree = np.flatnonzero(tree[node_comp[ea]])  # edges sorted: by first node, then second
    tree_ids = n_comp + np.arange(len(in_tree), dtype=np.int64)
    cq_parts = [node_comp[whole], tree_ids, tree_ids]
    bucket_parts = [np.flatnonzero(whole), ea[in_tree], eb[in_tree]]
    partial = ~complete[node_comp[ea]] & ~tree[node_comp[ea]]
    if partial.any():
        pc, pa, pb = node_comp[ea[partial]], ea[partial], eb[partial]
        order = np.argsort(pc, kind="stable")
        pc, pa, pb = pc[order], pa[order].tolist(), pb[order].tolist()
        bounds = np.flatnonzero(np.r_[True, pc[1:] != pc[:-1], True]).tolist()
        found: list[int] = []
        sizes: list[int] = []
        for s, e in itertools.pairwise(bounds):
            adjacency: dict[int, set[int]] = {}
            for u, v in zip(pa[s:e], pb[s:e], strict=True):
                adjacency.setdefault(u, set()).add(v)
                adjacency.setdefault(v, set()).add(u)
            for clique in maximal_cliques(adjacency):
                found += clique
                sizes.append(len(clique))
        cq_parts.append(np.repeat(n_comp + len(in_tree) + np.arange(len(sizes), dtype=np.int64), sizes))
        bucket_parts.append(np.array(found, dtype=np.int64))
    return np.concatenate(cq_parts), np.concatenate(bucket_parts)


def _set_cells(ctx: Context, atom: np.ndarray, n_atoms: int, sa_set: np.ndarray, sa_atom: np.ndarray,
               pop: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """(set * n_cells + cell keys, sorted; whether the set covers that cell whole; its residents there; n_cells).
    Cells are districts (an LSOA with no district is a cell of its own): two sets can only overlap where they
    share a cell."""
    districts = ctx.geo.units("district")
    n_lsoa = len(atom)
    cell_of_lsoa = np.where(districts.of_lsoa >= 0, districts.of_lsoa, len(districts) + np.arange(n_lsoa))
    n_cells = len(districts) + n_lsoa
    ac, ac_of = unique_inverse(atom * n_cells + cell_of_lsoa)  # (atom, cell), sorted by atom
    ac_lsoas = np.bincount(ac_of, minlength=len(ac))
    ac_pop = np.bincount(ac_of, weights=pop, minlength=len(ac))
    which, at = gather(csr(ac // n_cells, n_atoms), sa_atom)
    sc, inv = unique_inverse(sa_set[which] * n_cells + ac[at] % n_cells, grouped=True)  # rows by set
    lsoas = np.bincount(inv, weights=ac_lsoas[at], minlength=len(sc))
    return (sc, lsoas >= np.bincount(cell_of_lsoa, minlength=n_cells)[sc % n_cells],
            np.bincount(inv, weights=ac_pop[at], minlength=len(sc)), n_cells)


def _candidate_pairs(sc: np.ndarray, n_cells: int, n_sets: int, b_tg: np.ndarray, b_set: np.ndarray) -> np.ndarray:
    """Pairs of buckets (a * n_buckets + b, a < b, sorted) of one (theme, group) whose sets share a cell: every
    pair of overlapping sets is among them."""
    nb = len(b_tg)
    which, at = gather(csr(sc // n_cells, n_sets), b_set)
    cell = sc[at] % n_cells
    # Stable sorts: the rows come by bucket (so by (theme, group)), each bucket's cells ascending, and the pairs
    # of each (tg, cell) ascending: runs that NumPy's stable sort merges.
    order = np.argsort((b_tg[which] * n_cells + cell) * nb + which, kind="stable")
    which, cell = which[order], cell[order]
    i, j = within_group_pairs(b_tg[which] * n_cells + cell)
    return unique(which[i] * nb + which[j], grouped=True)  # which[i] < which[j]: rows sorted by bucket in a (tg, cell)


class _Bitmap:
    """Which atoms each coverage set holds: `holds(sets, atoms)` answers for many (set, atom) at once. A bit an
    atom, a lookup each (a set's row is a few hundred bytes at national scale); should the bits take more than
    `limit` bytes (and more than 16 a (set, atom) row), a binary search of the sorted rows instead."""

    def __init__(self, sa_set: np.ndarray, sa_atom: np.ndarray, n_sets: int, n_atoms: int,
                 limit: int = 2**26) -> None:
        self.width, self.n_atoms = (n_atoms + 7) // 8, n_atoms
        self.keys = None
        if n_sets * self.width > max(limit, 16 * len(sa_set)):
            self.keys = sa_set * n_atoms + sa_atom  # sorted: rows come by set, then atom
            return
        self.bits = np.zeros(max(n_sets * self.width, 1), dtype=np.uint8)
        np.bitwise_or.at(self.bits, sa_set * self.width + (sa_atom >> 3), np.left_shift(1, sa_atom & 7).astype(np.uint8))

    def __call__(self, sets: np.ndarray, atoms: np.ndarray) -> np.ndarray:
        if self.keys is not None:
            key = sets * self.n_atoms + atoms
            return np.r_[self.keys, -1][np.searchsorted(self.keys, key)] == key
        byte = self.bits[sets * self.width + (atoms >> 3)]
        return (np.right_shift(byte, (atoms & 7).astype(np.uint8)) & 1).view(bool)


def _intersections(combo_first: np.ndarray, cq: np.ndarray, cq_bucket: np.ndarray, b_set: np.ndarray,
                   set_ptr: np.ndarray, sa_atom: np.ndarray, holds: _Bitmap, nested: np.ndarray,
                   n_sets: int) -> tuple[np.ndarray, np.ndarray]:
    """(combination, atom) rows: the atoms every set of each combination covers (the atoms of its smallest set
    that each of its other sets holds too). A combination is given by one clique having it (`combo_first`).
    The other sets are tried in turn, smallest first, each against the atoms still left; `nested` (sorted
    lo * n_sets + hi keys) are the pairs whose smaller set (fewer atoms, then lower number) lies inside the other:
    a set holding the whole smallest set is not asked."""
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
    sizes = np.diff(np.r_[starts, len(n_combo_nodes)])
    which, at = gather(set_ptr, node_set[starts])  # candidates: the smallest set's atoms
    cand_combo, cand_atom = which, sa_atom[at]
    smallest = node_set[np.repeat(starts, sizes)]
    key = np.minimum(smallest, node_set) * n_sets + np.maximum(smallest, node_set)
    asked = np.r_[nested, -1][np.searchsorted(nested, key)] != key
    asked[starts] = False  # the smallest set itself
    keep = np.ones(len(cand_atom), dtype=bool)
    left = np.flatnonzero((np.bincount(n_combo_nodes, weights=asked, minlength=n_combo) > 0)[cand_combo])
    for k in range(1, int(sizes.max()) if len(left) else 0):
        node = starts[cand_combo[left]] + k
        test = left[asked[node]]
        keep[test[~holds(node_set[starts[cand_combo[test]] + k], cand_atom[test])]] = False
        left = left[keep[left] & (sizes[cand_combo[left]] > k + 1)]
        if not len(left):
            break
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
    # only a shared coverage with as many LSOAs as the smallest force can hold one whole
    size = np.bincount(i_cq, weights=np.bincount(atom, minlength=n_atoms)[i_atom].astype(float), minlength=n_cq)
    enough = size[i_cq] >= (total[total > 0].min() if (total > 0).any() else np.inf)
    i_cq, i_atom = i_cq[enough], i_atom[enough]
    which, at = gather(csr(f_atom, n_atoms), i_atom)
    cf, inv = unique_inverse(i_cq[which] * n_forces + f_unit[at], grouped=True)  # rows by combination
    got = np.bincount(inv, weights=f_count[at], minlength=len(cf))
    whole = (got >= total[cf % n_forces]) & (total[cf % n_forces] > 0)
    out = np.zeros(n_cq, dtype=bool)
    out[cf[whole] // n_forces] = True
    return out


def _pairs(ctx: Context, row_cq: np.ndarray, row_svc: np.ndarray, row_node: np.ndarray, group_id: np.ndarray,
           cq_tg: np.ndarray, n_groups: int, group_vocab: list[str], row_start: np.ndarray, place: np.ndarray,
           node_jaccard: np.ndarray, row_ptr: np.ndarray, chosen: np.ndarray) -> dict:
    """Every pair of members of each reported group, with their Jaccard overlap (1 for the same coverage): the
    overlap of nodes a < b of a clique is node_jaccard[row_start[a] + place[b]]. The groups' rows (`row_ptr`,
    rows by clique) are taken in rank order (`chosen`: the cliques of groups 1, 2, ...), then each group's by
    service: a stable sort of rows that come by group already."""
    rank, keep = gather(row_ptr, chosen)
    order = keep[np.argsort(rank * max(len(ctx.service_ids), 1) + row_svc[keep], kind="stable")]
    g, sid, node = group_id[row_cq[order]], ctx.service_ids[row_svc[order]], row_node[order]
    i, j = within_group_pairs(g)
    a, b = np.minimum(node[i], node[j]), np.maximum(node[i], node[j])
    t = cq_tg[row_cq[order]][i]
    return {"service_id_a": sid[i], "service_id_b": sid[j],
            "theme_key": ctx.themes.keys[t // n_groups].astype(object, copy=False),
            "target_group": np.array(group_vocab, dtype=object)[t % n_groups],
            "jaccard": node_jaccard[row_start[a] + place[b]], "group_id": g[i]}
