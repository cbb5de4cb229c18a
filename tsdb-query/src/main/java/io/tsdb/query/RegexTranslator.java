package io.tsdb.query;

import java.util.ArrayList;
import java.util.List;

/** Translates RE2 (Go) regex syntax to java.util.regex where they differ, and finds literal fast paths. */
final class RegexTranslator {
    private RegexTranslator() {}

    private static final String META = "\\.+*?()|[]{}^$";

    /** RE2 -> Java: named groups {@code (?P<n>}, POSIX classes {@code [:alpha:]}, literal '{' not starting a repeat. */
    static String toJava(String re) {
        StringBuilder sb = new StringBuilder(re.length() + 8);
        int depthClass = 0;
        for (int i = 0; i < re.length(); i++) {
            char c = re.charAt(i);
            if (c == '\\' && i + 1 < re.length()) {
                char n = re.charAt(i + 1);
                if (n == 'z') {
                    sb.append("\\z");
                } else if (n == 'C') {
                    sb.append('.');
                } else {
                    sb.append(c).append(n);
                }
                i++;
                continue;
            }
            if (depthClass > 0) {
                if (c == '[' && re.startsWith("[:", i)) {
                    int end = re.indexOf(":]", i + 2);
                    if (end > 0) {
                        String cls = re.substring(i + 2, end);
                        boolean neg = cls.startsWith("^");
                        if (neg) {
                            cls = cls.substring(1);
                        }
                        String j = posix(cls);
                        if (j != null) {
                            sb.append(neg ? "\\P{" : "\\p{").append(j).append('}');
                            i = end + 1;
                            continue;
                        }
                    }
                }
                if (c == '[') {
                    sb.append("\\[");
                    continue;
                }
                if (c == '&' && i + 1 < re.length() && re.charAt(i + 1) == '&') {
                    sb.append("&\\&");
                    i++;
                    continue;
                }
                if (c == ']') {
                    depthClass = 0;
                }
                sb.append(c);
                continue;
            }
            if (c == '[') {
                depthClass = 1;
                sb.append(c);
                // a ']' right after '[' or '[^' is literal
                if (i + 1 < re.length() && re.charAt(i + 1) == '^') {
                    sb.append('^');
                    i++;
                }
                if (i + 1 < re.length() && re.charAt(i + 1) == ']') {
                    sb.append("\\]");
                    i++;
                }
                continue;
            }
            if (c == '(' && re.startsWith("(?P<", i)) {
                sb.append("(?<");
                i += 3;
                continue;
            }
            if (c == '{' && !isRepeat(re, i)) {
                sb.append("\\{");
                continue;
            }
            if (c == '}' && !closesRepeat(re, i)) {
                sb.append("\\}");
                continue;
            }
            sb.append(c);
        }
        return sb.toString();
    }

    private static String posix(String cls) {
        return switch (cls) {
            case "alnum" -> "Alnum";
            case "alpha" -> "Alpha";
            case "ascii" -> "ASCII";
            case "blank" -> "Blank";
            case "cntrl" -> "Cntrl";
            case "digit" -> "Digit";
            case "graph" -> "Graph";
            case "lower" -> "Lower";
            case "print" -> "Print";
            case "punct" -> "Punct";
            case "space" -> "Space";
            case "upper" -> "Upper";
            case "word" -> "Alnum";
            case "xdigit" -> "XDigit";
            default -> null;
        };
    }

    private static boolean isRepeat(String re, int i) {
        int j = i + 1;
        int digits = 0;
        while (j < re.length() && Character.isDigit(re.charAt(j))) {
            j++;
            digits++;
        }
        if (digits == 0) {
            return false;
        }
        if (j < re.length() && re.charAt(j) == '}') {
            return true;
        }
        if (j < re.length() && re.charAt(j) == ',') {
            j++;
            while (j < re.length() && Character.isDigit(re.charAt(j))) {
                j++;
            }
            return j < re.length() && re.charAt(j) == '}';
        }
        return false;
    }

    private static boolean closesRepeat(String re, int i) {
        int j = i - 1;
        while (j >= 0 && (Character.isDigit(re.charAt(j)) || re.charAt(j) == ',')) {
            j--;
        }
        return j >= 0 && re.charAt(j) == '{' && j < i - 1 && isRepeat(re, j);
    }

    /** If the regex is {@code lit1|lit2|...} of plain literals (escaped metacharacters allowed), those literals. */
    static List<String> literalAlternatives(String re) {
        List<String> out = new ArrayList<>();
        StringBuilder cur = new StringBuilder();
        for (int i = 0; i < re.length(); i++) {
            char c = re.charAt(i);
            if (c == '\\') {
                if (i + 1 >= re.length()) {
                    return null;
                }
                char n = re.charAt(i + 1);
                if (META.indexOf(n) < 0 && n != '-' && n != '/') {
                    return null;
                }
                cur.append(n);
                i++;
            } else if (c == '|') {
                out.add(cur.toString());
                cur.setLength(0);
            } else if (META.indexOf(c) >= 0) {
                return null;
            } else {
                cur.append(c);
            }
        }
        out.add(cur.toString());
        return out;
    }

    /** The literal prefix of a regex without top-level alternation (e.g. "api-" for "api-.+"). */
    static String literalPrefix(String re) {
        if (re.indexOf('|') >= 0) {
            return "";
        }
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < re.length(); i++) {
            char c = re.charAt(i);
            if (c == '\\' && i + 1 < re.length() && META.indexOf(re.charAt(i + 1)) >= 0) {
                // an escaped literal, unless followed by a quantifier
                if (i + 2 < re.length() && "*?{+".indexOf(re.charAt(i + 2)) >= 0) {
                    break;
                }
                sb.append(re.charAt(i + 1));
                i++;
                continue;
            }
            if (META.indexOf(c) >= 0) {
                break;
            }
            if (i + 1 < re.length() && "*?{+".indexOf(re.charAt(i + 1)) >= 0) {
                break;
            }
            sb.append(c);
        }
        return sb.toString();
    }
}
