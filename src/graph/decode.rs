//! Decoding pairwise link scores into a forest: the maximum spanning arborescence
//! (Chu & Liu 1965; Edmonds 1967).
//!
//! Every unit picks at most one target. Picking targets greedily can create cycles (a supports
//! b, b supports a); the arborescence is the set of links with the largest total score among
//! those in which following targets from any unit ends at the root without a cycle.
//!
//! The algorithm: every node takes its best outgoing edge; if that makes no cycle, done.
//! Otherwise each cycle is contracted into one node, the score of every edge leaving a cycle
//! node `c` is reduced by the score of `c`'s edge inside the cycle (the price of breaking the
//! cycle there), the smaller graph is solved recursively, and the cycle is re-expanded,
//! broken at the node whose outside edge was chosen. It works on a sparse edge list, so an
//! article costs what its candidate links cost.

/// A candidate edge `from → to` (the source backs the target) with its score.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScoredEdge {
    pub from: usize,
    pub to: usize,
    pub score: f32,
}

/// The maximum-score arborescence over `n` nodes in which every node except `root` has exactly
/// one outgoing edge and following edges from any node reaches `root`. Returns, for each node,
/// the index in `edges` of its chosen edge (`None` for the root), or `None` when some node
/// cannot reach the root. Ties go to the edge listed first, so the result is deterministic.
pub fn arborescence(n: usize, root: usize, edges: &[ScoredEdge]) -> Option<Vec<Option<usize>>> {
    // best outgoing edge of every non-root node
    let mut best: Vec<Option<usize>> = vec![None; n];
    for (k, e) in edges.iter().enumerate() {
        if e.from == root || e.from == e.to {
            continue;
        }
        if best[e.from].is_none_or(|b| e.score > edges[b].score) {
            best[e.from] = Some(k);
        }
    }
    if (0..n).any(|v| v != root && best[v].is_none()) {
        return None;
    }

    // find cycles: walk from every node along best edges
    let mut cycle_of: Vec<Option<usize>> = vec![None; n];
    let mut cycles = 0;
    let mut visited_from: Vec<Option<usize>> = vec![None; n];
    for start in 0..n {
        let mut v = start;
        while v != root && visited_from[v].is_none() && cycle_of[v].is_none() {
            visited_from[v] = Some(start);
            v = edges[best[v].expect("checked above")].to;
        }
        if v != root && visited_from[v] == Some(start) && cycle_of[v].is_none() {
            // v lies on a new cycle: mark it
            let mut u = v;
            loop {
                cycle_of[u] = Some(cycles);
                u = edges[best[u].expect("checked above")].to;
                if u == v {
                    break;
                }
            }
            cycles += 1;
        }
    }
    if cycles == 0 {
        return Some(best);
    }

    // contract: nodes not on a cycle keep a new id each, every cycle becomes one node
    let mut new_id = vec![0; n];
    let mut next = 0;
    for v in 0..n {
        if cycle_of[v].is_none() {
            new_id[v] = next;
            next += 1;
        }
    }
    for v in 0..n {
        if let Some(c) = cycle_of[v] {
            new_id[v] = next + c;
        }
    }
    let contracted_n = next + cycles;
    let mut contracted = Vec::new();
    let mut origin = Vec::new();
    for (k, e) in edges.iter().enumerate() {
        let (from, to) = (new_id[e.from], new_id[e.to]);
        if from == to || e.from == root {
            continue;
        }
        let score = match cycle_of[e.from] {
            Some(_) => e.score - edges[best[e.from].expect("cycle nodes have edges")].score,
            None => e.score,
        };
        contracted.push(ScoredEdge { from, to, score });
        origin.push(k);
    }
    let solved = arborescence(contracted_n, new_id[root], &contracted)?;

    // expand: a cycle keeps its inner edges except at the node whose outside edge was chosen
    let mut chosen = best;
    for v in 0..n {
        if v == root {
            continue;
        }
        if let Some(k) = solved[new_id[v]] {
            let e = origin[k];
            if edges[e].from == v {
                chosen[v] = Some(e);
            }
        }
    }
    Some(chosen)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(from: usize, to: usize, score: f32) -> ScoredEdge {
        ScoredEdge { from, to, score }
    }

    fn targets(n: usize, root: usize, edges: &[ScoredEdge]) -> Vec<Option<usize>> {
        arborescence(n, root, edges)
            .expect("reachable")
            .into_iter()
            .map(|k| k.map(|k| edges[k].to))
            .collect()
    }

    #[test]
    fn without_cycles_every_node_takes_its_best_edge() {
        let edges = [e(1, 0, 1.0), e(2, 1, 2.0), e(2, 0, 1.0)];
        assert_eq!(targets(3, 0, &edges), [None, Some(0), Some(1)]);
    }

    #[test]
    fn a_cycle_is_broken_where_it_costs_least() {
        // 1 and 2 prefer each other; breaking at 2 (loses 3 - 2.5) beats breaking at 1 (5 - 1)
        let edges = [e(1, 2, 5.0), e(2, 1, 3.0), e(1, 0, 1.0), e(2, 0, 2.5)];
        assert_eq!(targets(3, 0, &edges), [None, Some(2), Some(0)]);
    }

    #[test]
    fn nested_cycles_are_resolved() {
        // 1 → 2 → 3 → 1 all strong; only 3 can reach the root, weakly
        let edges = [
            e(1, 2, 4.0),
            e(2, 3, 4.0),
            e(3, 1, 4.0),
            e(3, 0, 0.5),
            e(4, 1, 1.0),
            e(4, 0, 0.1),
        ];
        assert_eq!(
            targets(5, 0, &edges),
            [None, Some(2), Some(3), Some(0), Some(1)]
        );
    }

    #[test]
    fn unreachable_root_is_reported() {
        assert!(arborescence(3, 0, &[e(1, 2, 1.0), e(2, 1, 1.0)]).is_none());
    }

    #[test]
    fn result_is_a_tree_on_random_graphs() {
        // xorshift64: uniform in [0, 1), the same graphs on every run
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        let mut unit = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 40) as f32 / (1u64 << 24) as f32
        };
        for _ in 0..200 {
            let n = 2 + (unit() * 9.0) as usize;
            let mut edges = Vec::new();
            for from in 1..n {
                edges.push(e(from, 0, unit()));
                for to in 1..n {
                    if to != from && unit() < 0.6 {
                        edges.push(e(from, to, unit() * 3.0));
                    }
                }
            }
            let t = targets(n, 0, &edges);
            for start in 1..n {
                let mut v = start;
                for _ in 0..n {
                    if v == 0 {
                        break;
                    }
                    v = t[v].expect("non-root nodes have a target");
                }
                assert_eq!(v, 0, "node {start} reaches the root");
            }
            // optimal: no better total than brute force over all target choices for small n
            if n <= 5 {
                let total = |t: &[Option<usize>]| -> f32 {
                    (1..n)
                        .map(|v| {
                            edges
                                .iter()
                                .filter(|x| x.from == v && Some(x.to) == t[v])
                                .map(|x| x.score)
                                .fold(f32::MIN, f32::max)
                        })
                        .sum()
                };
                let best = brute_force(n, &edges, &total);
                assert!((total(&t) - best).abs() < 1e-4, "{} vs {best}", total(&t));
            }
        }
    }

    fn brute_force(n: usize, edges: &[ScoredEdge], total: &dyn Fn(&[Option<usize>]) -> f32) -> f32 {
        let mut best = f32::MIN;
        let combos = n.pow(n as u32 - 1);
        for mut code in 0..combos {
            let mut t = vec![None; n];
            for slot in t.iter_mut().skip(1) {
                *slot = Some(code % n);
                code /= n;
            }
            let valid = (1..n).all(|v| {
                edges.iter().any(|x| x.from == v && Some(x.to) == t[v]) && {
                    let mut u = v;
                    let mut steps = 0;
                    while u != 0 && steps <= n {
                        u = t[u].unwrap_or(0);
                        steps += 1;
                    }
                    u == 0
                }
            });
            if valid {
                best = best.max(total(&t));
            }
        }
        best
    }
}
