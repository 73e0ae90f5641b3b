"""Duplication: services that cover the same people for the same need, paid for or run by different partners.

review.md: two services overlap when they share a theme, share at least one target group, and the Jaccard
overlap of their coverage, weighted by population, is >= 0.5. Overlapping services from different commissioners
or different providers are joined into duplication groups: the connected components of the overlap graph.

"Different commissioners" means the two services' sets of commissioners are not the same set (a service funded
by OPCC and the county overlaps one funded by OPCC alone); "different providers" means different provider names.
Two overlapping services of one commissioner and one provider are one partner's own arrangement and draw no edge.

How it stays sparse (national scale: 34,753 LSOAs, 100,000 services): services are compared only within a theme.
Services with identical coverage share one "coverage set" (found by hashing their LSOA lists), and LSOAs covered
by exactly the same sets are merged into "atoms" (usually whole districts), so the Jaccard overlap is computed
between coverage sets of one theme, from the atoms each pair has in common (a sparse product done by sorting,
never a dense service-by-service matrix); service pairs are then read off the set pairs that pass the threshold.
"""

from __future__ import annotations

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
    "group_id", "theme_key", "theme_name", "themes", "target_groups", "n_services", "service_ids", "services",
    "commissioners", "n_commissioners", "providers", "n_providers", "combined_funding", "overlap", "population",
    "shared_area_codes", "shared_areas",
]
PAIR_COLUMNS = ["service_id_a", "service_id_b", "theme_key", "jaccard", "group_id"]


@dataclass(frozen=True)
class Duplication:
    """`groups`: one row per duplication group (largest combined funding first); `pairs`: the overlap edges."""

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


def cross_pairs(ptr: np.ndarray, members: np.ndarray, a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, ...]:
    """Every (x in bucket a, y in bucket b) for each listed bucket pair (CSR buckets); also the pair's index."""
    la = ptr[a + 1] - ptr[a]
    lb = ptr[b + 1] - ptr[b]
    prod = la * lb
    total = int(prod.sum())
    which = np.repeat(np.arange(len(a), dtype=np.int64), prod)
    k = np.arange(total) - np.repeat(np.cumsum(prod) - prod, prod)
    x = members[ptr[a][which] + k // lb[which]]
    y = members[ptr[b][which] + k % lb[which]]
    return x, y, which


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


def duplication(data: ReviewData, as_at: DateLike, *, min_overlap: float = MIN_OVERLAP,
                level: str = "area") -> Duplication:
    """Duplication groups among services current at `as_at`; shared areas are named at `level`.

    Group columns: group_id, theme_key/theme_name (the theme most of the group's overlaps share), themes,
    target_groups (shared on its overlaps), n_services, service_ids, services (names), commissioners,
    n_commissioners, providers, n_providers, combined_funding (£ a year), overlap (population in LSOAs covered by
    two or more members / population of all they cover; for a pair this is their Jaccard overlap), population,
    shared_area_codes/shared_areas (areas holding overlapped LSOAs, most overlapped population first).
    """
    groups, pairs = _duplication(Context(data, as_at), min_overlap, check_level(level))
    return Duplication(pd.DataFrame(groups, columns=GROUP_COLUMNS), pd.DataFrame(pairs, columns=PAIR_COLUMNS))


def _factorize(values: list) -> np.ndarray:
    seen: dict = {}
    return np.fromiter((seen.setdefault(v, len(seen)) for v in values), dtype=np.int64, count=len(values))


def _duplication(ctx: Context, min_overlap: float, level: str) -> tuple[dict, dict]:
    """(group columns, pair columns) as arrays; `duplication` wraps them in frames."""
    return ctx.shared(("duplication", float(min_overlap), level), lambda: _compute(ctx, min_overlap, level))


def _compute(ctx: Context, min_overlap: float, level: str) -> tuple[dict, dict]:
    prep = ctx.prep
    n_svc = len(ctx.service_ids)
    cov_s, cov_l = ctx.coverage
    pop = ctx.geo.population

    # Target groups as bit masks: two services share a group when their masks meet.
    group_vocab = sorted({g for t in prep.svc_groups for g in t})
    g_rows, g_items = explode(prep.svc_groups, {g: i for i, g in enumerate(group_vocab)})
    masks = np.zeros((n_svc, max((len(group_vocab) + 63) // 64, 1)), dtype=np.uint64)
    np.bitwise_or.at(masks, (g_rows, g_items // 64), np.left_shift(np.uint64(1), (g_items % 64).astype(np.uint64)))

    candidate = ctx.current & ctx.covered & masks.any(axis=1)
    comm_id = _factorize([tuple(sorted(c)) for c in prep.svc_commissioners])
    prov_id = _factorize(prep.svc_provider.tolist())

    # Coverage sets: services with the same LSOAs share one set (hash of the LSOA list, two 64-bit halves).
    keep = candidate[cov_s]
    cs, cl = cov_s[keep], cov_l[keep]
    if len(cs) == 0:
        return {c: np.empty(0, dtype=object) for c in GROUP_COLUMNS}, {c: np.empty(0) for c in PAIR_COLUMNS}
    rng = np.random.default_rng(20160721)
    r1, r2 = (rng.integers(0, 2**63, size=max(ctx.geo.n_lsoa, 1), dtype=np.uint64) for _ in range(2))
    starts = np.flatnonzero(np.r_[True, cs[1:] != cs[:-1]])
    owners = cs[starts]
    with np.errstate(over="ignore"):
        sig = np.stack([np.add.reduceat(r1[cl], starts), np.add.reduceat(r2[cl], starts),
                        np.diff(np.r_[starts, len(cs)]).astype(np.uint64)], axis=1)
    first, set_of = unique_rows(sig)
    svc_set = np.full(n_svc, -1, dtype=np.int64)
    svc_set[owners] = set_of.ravel()
    n_sets = len(first)
    is_rep = np.zeros(n_svc, dtype=bool)
    is_rep[owners[first]] = True
    rep_rows = is_rep[cs]  # one service's LSOAs stand for each set
    set_of_row, lsoa_of_row = svc_set[cs[rep_rows]], cl[rep_rows]

    # Atoms: LSOAs covered by exactly the same sets are one unit (a district covered only as a whole is one
    # atom), so overlaps are added up over atoms rather than LSOAs: far fewer pairs at national scale.
    s1, s2 = (rng.integers(0, 2**63, size=n_sets, dtype=np.uint64) for _ in range(2))
    a1 = np.zeros(max(ctx.geo.n_lsoa, 1), dtype=np.uint64)
    a2 = np.zeros(max(ctx.geo.n_lsoa, 1), dtype=np.uint64)
    with np.errstate(over="ignore"):
        np.add.at(a1, lsoa_of_row, s1[set_of_row])
        np.add.at(a2, lsoa_of_row, s2[set_of_row])
    _, atom = unique_rows(np.stack([a1, a2], axis=1))
    atom = atom.ravel()
    atom_weight = np.bincount(atom, weights=pop, minlength=int(atom.max()) + 1)
    atom_count = np.bincount(atom).astype(float)
    pairs_sa = unique(set_of_row * len(atom_weight) + atom[lsoa_of_row])
    sa_set, sa_atom = pairs_sa // len(atom_weight), pairs_sa % len(atom_weight)  # sorted by set
    set_ptr = csr(sa_set, n_sets)
    set_weight = np.bincount(sa_set, weights=atom_weight[sa_atom], minlength=n_sets)
    set_count = np.bincount(sa_set, weights=atom_count[sa_atom], minlength=n_sets)

    # Buckets: (theme, set). Only buckets of the same theme are compared (the pair key carries the theme).
    st_svc, st_theme, _ = prep.service_themes
    on = candidate[st_svc]
    st_svc, st_theme = st_svc[on], st_theme[on]
    buckets, b_inv = unique_inverse(st_theme * n_sets + svc_set[st_svc])
    b_theme, b_set = buckets // n_sets, buckets % n_sets
    members = st_svc[np.argsort(b_inv, kind="stable")]
    ptr = csr(b_inv, len(buckets))

    which, at = gather(set_ptr, b_set)
    row_atom = sa_atom[at]
    order = np.lexsort((which, row_atom, b_theme[which]))
    which, row_atom = which[order], row_atom[order]
    i, j = within_group_pairs(b_theme[which] * len(atom_weight) + row_atom)
    key = which[i] * len(buckets) + which[j]
    uk, inv = unique_inverse(key)
    inter_w = np.bincount(inv, weights=atom_weight[row_atom[i]], minlength=len(uk))
    inter_n = np.bincount(inv, weights=atom_count[row_atom[i]], minlength=len(uk))
    a, b = uk // len(buckets), uk % len(buckets)
    union_w = set_weight[b_set[a]] + set_weight[b_set[b]] - inter_w
    union_n = set_count[b_set[a]] + set_count[b_set[b]] - inter_n
    with np.errstate(divide="ignore", invalid="ignore"):
        jac = np.where(union_w > 0, inter_w / np.where(union_w > 0, union_w, 1.0),
                       np.where(union_n > 0, inter_n / np.where(union_n > 0, union_n, 1.0), 0.0))
    passed = jac >= min_overlap - 1e-9  # inclusive, whatever floating point makes of exactly 0.5
    a = np.concatenate([np.arange(len(buckets)), a[passed]])  # a bucket overlaps itself fully
    b = np.concatenate([np.arange(len(buckets)), b[passed]])
    jac = np.concatenate([np.ones(len(buckets)), jac[passed]])

    x, y, pair = cross_pairs(ptr, members, a, b)
    ok = (x != y) & ((a[pair] != b[pair]) | (x < y))
    ok &= (masks[x] & masks[y]).any(axis=1)
    ok &= (comm_id[x] != comm_id[y]) | (prov_id[x] != prov_id[y])
    edges_u, edges_v = [np.minimum(x[ok], y[ok])], [np.maximum(x[ok], y[ok])]
    edges_t, edges_j = [b_theme[a[pair[ok]]]], [jac[pair[ok]]]

    if not edges_u or sum(len(e) for e in edges_u) == 0:
        return {c: np.empty(0, dtype=object) for c in GROUP_COLUMNS}, {c: np.empty(0) for c in PAIR_COLUMNS}
    u, v = np.concatenate(edges_u), np.concatenate(edges_v)
    et, ej = np.concatenate(edges_t), np.concatenate(edges_j)
    label = components(n_svc, u, v)
    groups, group_of_label = _describe(ctx, label, u, v, et, masks, group_vocab, level)
    gid = group_of_label[label[u]]
    order = np.lexsort((et, ctx.service_ids[v], ctx.service_ids[u], gid))
    pairs = {"service_id_a": ctx.service_ids[u][order], "service_id_b": ctx.service_ids[v][order],
             "theme_key": ctx.themes.keys[et][order], "jaccard": ej[order], "group_id": gid[order]}
    return groups, pairs


def _describe(ctx: Context, label: np.ndarray, u: np.ndarray, v: np.ndarray, et: np.ndarray, masks: np.ndarray,
              group_vocab: list[str], level: str) -> tuple[dict, np.ndarray]:
    """Group columns (largest combined funding first) and the group id of each component label."""
    prep = ctx.prep
    in_group = np.zeros(len(label), dtype=bool)
    in_group[u] = True
    in_group[v] = True
    member = np.flatnonzero(in_group)
    comp = label[member]
    roots, gidx = unique_inverse(comp)
    n_groups = len(roots)
    group_of_svc = np.full(len(label), -1, dtype=np.int64)
    group_of_svc[member] = gidx

    # Overlap and shared areas from the members' LSOAs.
    cov_s, cov_l = ctx.coverage
    g = group_of_svc[cov_s]
    ok = g >= 0
    n_lsoa = max(ctx.geo.n_lsoa, 1)
    gl, times = unique_counts(g[ok] * n_lsoa + cov_l[ok])
    grp, lsoa = gl // n_lsoa, gl % n_lsoa
    w = ctx.geo.population[lsoa]
    union = np.bincount(grp, weights=w, minlength=n_groups)
    shared = times >= 2
    overlapped = np.bincount(grp[shared], weights=w[shared], minlength=n_groups)
    units = ctx.geo.units(level)
    n_units = max(len(units), 1)
    unit = units.of_lsoa[lsoa[shared]]
    keep = unit >= 0
    cell, cell_inv = unique_inverse(grp[shared][keep] * n_units + unit[keep])
    cell_weight = np.bincount(cell_inv, weights=w[shared][keep], minlength=len(cell))
    order = np.lexsort((cell % n_units, -cell_weight, cell // n_units))  # by group, most overlapped first
    cell, cell_group = cell[order] % n_units, cell[order] // n_units
    cell_ptr = csr(cell_group, n_groups)

    edge_group = group_of_svc[u]
    n_t = len(ctx.themes.keys)
    theme_count = np.bincount(edge_group * n_t + et, minlength=n_groups * n_t).reshape(n_groups, n_t)
    shared_masks = masks[u] & masks[v]
    funding = ctx.funding_pence / 100.0
    combined = np.bincount(gidx, weights=funding[member], minlength=n_groups)
    n_members = np.bincount(gidx, minlength=n_groups)
    rank = np.lexsort((-n_members, -combined))  # group ids follow combined funding, then size
    group_id = np.empty(n_groups, dtype=np.int64)
    group_id[rank] = np.arange(1, n_groups + 1)
    by_group = member[np.lexsort((-funding[member], gidx))]  # members of each group, best funded first
    member_ptr = csr(np.sort(gidx), n_groups)

    cols: dict[str, list] = {c: [] for c in GROUP_COLUMNS}
    for k in rank.tolist():
        svcs = by_group[member_ptr[k]:member_ptr[k + 1]]
        comms = sorted({c for s in svcs.tolist() for c in prep.svc_commissioners[s]})
        provs = sorted({prep.svc_provider[s] for s in svcs.tolist()} - {""})
        main = int(np.argmax(theme_count[k]))
        gmask = np.bitwise_or.reduce(shared_masks[edge_group == k], axis=0)
        tg = tuple(g_ for i, g_ in enumerate(group_vocab) if (int(gmask[i // 64]) >> (i % 64)) & 1)
        cells = cell[cell_ptr[k]:cell_ptr[k + 1]]
        for name, value in (
            ("group_id", int(group_id[k])), ("theme_key", ctx.themes.keys[main]),
            ("theme_name", ctx.themes.names[main]), ("themes", tuple(ctx.themes.keys[np.flatnonzero(theme_count[k])])),
            ("target_groups", tg), ("n_services", len(svcs)),
            ("service_ids", tuple(int(x) for x in ctx.service_ids[svcs])),
            ("services", tuple(prep.svc_name[svcs].tolist())), ("commissioners", tuple(comms)),
            ("n_commissioners", len(comms)), ("providers", tuple(provs)), ("n_providers", len(provs)),
            ("combined_funding", float(combined[k])),
            ("overlap", float(overlapped[k] / union[k]) if union[k] > 0 else 0.0), ("population", float(union[k])),
            ("shared_area_codes", tuple(str(c) for c in units.codes[cells])),
            ("shared_areas", tuple(str(c) for c in units.names[cells])),
        ):
            cols[name].append(value)
    out = {c: objects(vals) for c, vals in cols.items()}
    for c in ("group_id", "n_services", "n_commissioners", "n_providers"):
        out[c] = np.array(cols[c], dtype=np.int64)
    for c in ("combined_funding", "overlap", "population"):
        out[c] = np.array(cols[c], dtype=float)
    group_of_label = np.full(len(label), -1, dtype=np.int64)
    group_of_label[roots] = group_id
    return out, group_of_label
