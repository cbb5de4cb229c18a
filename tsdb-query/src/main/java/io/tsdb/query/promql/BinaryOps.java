package io.tsdb.query.promql;

import io.tsdb.core.Labels;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** Binary operations between two instant vectors (vector matching, set operators). */
final class BinaryOps {
    private BinaryOps() {}

    static Evaluator.VecVal vectorBinary(Expr.Binary b, Evaluator.VecVal l, Evaluator.VecVal r, long[] ts) {
        List<List<Evaluator.Elem>> out = new ArrayList<>(ts.length);
        Expr.VectorMatching m = b.matching();
        SigCache sc = new SigCache(m);
        for (int i = 0; i < ts.length; i++) {
            List<Evaluator.Elem> ls = l.steps().get(i);
            List<Evaluator.Elem> rs = r.steps().get(i);
            switch (b.op()) {
                case LAND -> out.add(and(ls, rs, sc, true));
                case LUNLESS -> out.add(and(ls, rs, sc, false));
                case LOR -> out.add(or(ls, rs, sc));
                default -> out.add(binop(b, ls, rs, m, sc, ts[i]));
            }
        }
        return new Evaluator.VecVal(out);
    }

    /** Matching signatures, cached per label-set instance (the same instances recur at every step). */
    private static final class SigCache {
        private final java.util.IdentityHashMap<Labels, String> cache = new java.util.IdentityHashMap<>();
        private final Expr.VectorMatching m;

        SigCache(Expr.VectorMatching m) {
            this.m = m;
        }

        String sig(Labels l) {
            String s = cache.get(l);
            if (s == null) {
                s = LabelOps.signature(l, m.labels(), m.on());
                if (cache.size() < 1_000_000) {
                    cache.put(l, s);
                }
            }
            return s;
        }
    }

    private static List<Evaluator.Elem> and(
            List<Evaluator.Elem> ls, List<Evaluator.Elem> rs, SigCache m, boolean keepMatching) {
        if (ls.isEmpty()) {
            return List.of();
        }
        Set<String> right = new HashSet<>();
        for (Evaluator.Elem e : rs) {
            right.add(m.sig(e.labels()));
        }
        List<Evaluator.Elem> o = new ArrayList<>();
        for (Evaluator.Elem e : ls) {
            if (right.contains(m.sig(e.labels())) == keepMatching) {
                o.add(e);
            }
        }
        return o;
    }

    private static List<Evaluator.Elem> or(List<Evaluator.Elem> ls, List<Evaluator.Elem> rs, SigCache m) {
        Set<String> left = new HashSet<>();
        List<Evaluator.Elem> o = new ArrayList<>(ls.size() + rs.size());
        for (Evaluator.Elem e : ls) {
            left.add(m.sig(e.labels()));
            o.add(e);
        }
        for (Evaluator.Elem e : rs) {
            if (!left.contains(m.sig(e.labels()))) {
                o.add(e);
            }
        }
        return o;
    }

    private static boolean dropsName(TokenType op) {
        return switch (op) {
            case ADD, SUB, MUL, DIV, MOD, POW, ATAN2 -> true;
            default -> false;
        };
    }

    private static List<Evaluator.Elem> binop(
            Expr.Binary b,
            List<Evaluator.Elem> lhs,
            List<Evaluator.Elem> rhs,
            Expr.VectorMatching m,
            SigCache sc,
            long t) {
        boolean oneToMany = m.card() == Expr.Card.ONE_TO_MANY;
        List<Evaluator.Elem> many = oneToMany ? rhs : lhs;
        List<Evaluator.Elem> one = oneToMany ? lhs : rhs;
        if (many.isEmpty() || one.isEmpty()) {
            return List.of();
        }
        Map<String, Evaluator.Elem> oneSigs = new HashMap<>();
        for (Evaluator.Elem e : one) {
            String s = sc.sig(e.labels());
            Evaluator.Elem dup = oneSigs.put(s, e);
            if (dup != null) {
                String side = oneToMany ? "left" : "right";
                throw new PromqlEvalException("found duplicate series for the match group "
                        + matchedLabels(e.labels(), m) + " on the " + side + " hand-side of the operation: ["
                        + e.labels() + ", " + dup.labels() + "];many-to-many matching not allowed: matching labels "
                        + "must be unique on one side");
            }
        }
        Map<String, Set<Labels>> matched = new HashMap<>();
        boolean cmp = Parser.isComparison(b.op());
        List<Evaluator.Elem> o = new ArrayList<>();
        for (Evaluator.Elem ls : many) {
            String s = sc.sig(ls.labels());
            Evaluator.Elem rs = oneSigs.get(s);
            if (rs == null) {
                continue;
            }
            double fl = ls.v();
            double fr = rs.v();
            if (oneToMany) {
                double tmp = fl;
                fl = fr;
                fr = tmp;
            }
            double value;
            if (cmp) {
                boolean keep = Evaluator.compare(b.op(), fl, fr);
                if (b.returnBool()) {
                    value = keep ? 1 : 0;
                } else if (!keep) {
                    continue;
                } else {
                    value = fl;
                }
            } else {
                value = Evaluator.arith(b.op(), fl, fr);
            }
            Labels metric = resultMetric(ls.labels(), rs.labels(), b.op(), m);
            if (b.returnBool()) {
                metric = LabelOps.dropName(metric);
            }
            Set<Labels> inserted = matched.get(s);
            if (m.card() == Expr.Card.ONE_TO_ONE) {
                if (inserted != null) {
                    throw new PromqlEvalException("multiple matches for labels: many-to-one matching must be explicit "
                            + "(group_left/group_right)");
                }
                matched.put(s, Set.of());
            } else {
                Labels key = metric;
                if (inserted == null) {
                    inserted = new HashSet<>();
                    matched.put(s, inserted);
                } else if (inserted.contains(key)) {
                    throw new PromqlEvalException(
                            "multiple matches for labels: grouping labels must ensure unique " + "results");
                }
                inserted.add(key);
            }
            o.add(new Evaluator.Elem(metric, value, t));
        }
        return o;
    }

    private static String matchedLabels(Labels l, Expr.VectorMatching m) {
        Labels x = m.on() ? LabelOps.keep(l, m.labels()) : LabelOps.without(l, m.labels(), true);
        return x.toString();
    }

    private static Labels resultMetric(Labels lhs, Labels rhs, TokenType op, Expr.VectorMatching m) {
        Labels.Builder b = lhs.toBuilder();
        boolean changed = false;
        if (dropsName(op) && lhs.get(LabelOps.NAME) != null) {
            b.remove(LabelOps.NAME);
            changed = true;
        }
        if (m.card() == Expr.Card.ONE_TO_ONE) {
            if (m.on()) {
                for (int i = 0; i < lhs.size(); i++) {
                    if (!m.labels().contains(lhs.name(i))) {
                        b.remove(lhs.name(i));
                        changed = true;
                    }
                }
            } else {
                for (String n : m.labels()) {
                    if (lhs.get(n) != null) {
                        b.remove(n);
                        changed = true;
                    }
                }
            }
        }
        for (String n : m.include()) {
            String v = rhs.get(n);
            if (v != null && !v.isEmpty()) {
                b.set(n, v);
            } else {
                b.remove(n);
            }
            changed = true;
        }
        return changed ? b.build() : lhs;
    }
}
