using System.Text.RegularExpressions;

namespace BananaLab.Core.Moderation;

/// <summary>One blocking or context term: where it comes from (built-in list, configuration, an admin) and what it means.</summary>
public sealed record ModerationTermEntry(string Category, string Term, string RuleId);

/// <summary>
/// The compiled rules: one whole-word matcher per category over the normalised prompt (a term in a script written
/// without spaces, such as Japanese, matches anywhere), allow-listed phrases removed first, and the combination rules
/// over the context categories that never block alone: a minor (a term, or a stated age under 18 found by
/// <see cref="StructuralRules"/>) together with anything sexual or suggestive blocks as
/// <see cref="MinorsSexual"/>; a suggestive term together with an explicitness marker ("nude" + "explicit") blocks as sexual.
/// </summary>
public sealed class ModerationRuleSet
{
    public const string Minors = "minors";
    public const string SexualSoft = "sexual_soft";
    public const string Allow = "allow";
    public const string MinorsSexual = "minors_sexual";
    public const string Explicit = "explicit";
    public const string Sexual = "sexual";

    /// <summary>Categories that block on their own.</summary>
    public static readonly string[] BlockingCategories = ["sexual", "violence", "hate", "self_harm", "illegal", "custom"];

    private readonly Dictionary<string, Matcher> _matchers;
    private readonly Regex? _allow;

    private sealed record Matcher(Regex Pattern, Dictionary<string, string> RuleByTerm);

    private readonly bool _structural;

    /// <param name="entries">The terms, by category.</param>
    /// <param name="structural">Whether <see cref="StructuralRules"/> run too (off only to measure the term lists alone).</param>
    public ModerationRuleSet(IEnumerable<ModerationTermEntry> entries, bool structural = true)
    {
        _structural = structural;
        var byCategory = entries
            .Select(e => e with { Term = TextNormalizer.Term(e.Term.TrimEnd('*')) + (e.Term.EndsWith('*') ? "*" : "") })
            .Where(e => e.Term.TrimEnd('*').Length > 0)
            .GroupBy(e => e.Category);
        _matchers = [];
        foreach (var group in byCategory)
        {
            var rules = new Dictionary<string, string>();
            foreach (var entry in group) rules.TryAdd(entry.Term, entry.RuleId);
            var pattern = WholeWords(rules.Keys);
            if (group.Key == Allow) _allow = pattern;
            else _matchers[group.Key] = new Matcher(pattern, rules);
        }
    }

    public int TermCount => _matchers.Values.Sum(m => m.RuleByTerm.Count);

    /// <summary>Screens a text; returns the blocking categories (empty when allowed), the rules that matched, and the normalised text.</summary>
    public (IReadOnlyList<string> Categories, IReadOnlyList<string> Rules, string Normalized) Screen(string text)
    {
        var categories = new SortedSet<string>(StringComparer.Ordinal);
        var rules = new SortedSet<string>(StringComparer.Ordinal);
        var contextRules = new Dictionary<string, SortedSet<string>> { [Minors] = [], [SexualSoft] = [], [Explicit] = [] };
        var variants = TextNormalizer.Variants(text);
        foreach (var raw in variants)
        {
            var variant = _allow is null ? raw : _allow.Replace(raw, " ");
            foreach (var (category, matcher) in _matchers)
            {
                foreach (Match match in matcher.Pattern.Matches(variant))
                {
                    if (contextRules.TryGetValue(category, out var context)) context.Add(RuleFor(matcher, match.Value));
                    else
                    {
                        categories.Add(category);
                        rules.Add(RuleFor(matcher, match.Value));
                    }
                }
            }
        }
        foreach (var (category, rule) in _structural ? StructuralRules.Find(text, variants) : [])
        {
            if (contextRules.TryGetValue(category, out var context)) context.Add(rule);
            else
            {
                categories.Add(category);
                rules.Add(rule);
            }
        }
        // Suggestive and explicit together are sexual, even where each alone is allowed (nude; explicit).
        if (contextRules[SexualSoft].Count > 0 && contextRules[Explicit].Count > 0)
        {
            categories.Add(Sexual);
            rules.UnionWith(contextRules[SexualSoft]);
            rules.UnionWith(contextRules[Explicit]);
        }
        // A minor together with anything sexual or suggestive blocks, even where each alone is allowed (a child; lingerie).
        // An explicitness marker alone is neither ("explicit instructions for a child's car seat").
        if (contextRules[Minors].Count > 0 && (contextRules[SexualSoft].Count > 0 || categories.Contains(Sexual)))
        {
            categories.Add(MinorsSexual);
            rules.UnionWith(contextRules[Minors]);
            rules.UnionWith(contextRules[SexualSoft]);
            rules.UnionWith(contextRules[Explicit]);
        }
        return (categories.ToList(), rules.ToList(), variants[0]);
    }

    private static string RuleFor(Matcher matcher, string matched)
    {
        if (matcher.RuleByTerm.TryGetValue(matched, out var rule)) return rule;
        var stem = matcher.RuleByTerm.Keys.Where(k => k.EndsWith('*') && matched.StartsWith(k[..^1], StringComparison.Ordinal))
            .OrderByDescending(k => k.Length).FirstOrDefault();
        if (stem is not null) return matcher.RuleByTerm[stem];
        var phrase = matcher.RuleByTerm.Keys.FirstOrDefault(k => Regex.IsMatch(matched, "^" + Regex.Escape(k).Replace("\\ ", "\\s+") + "$"));
        return phrase is null ? "unknown" : matcher.RuleByTerm[phrase];
    }

    /// <summary>
    /// Terms as whole words (letters or digits never touch a match on either side); "stem*" takes any ending. A term in a
    /// script written without spaces between words (Japanese kana, Han ideographs) matches anywhere: there are no word
    /// boundaries to respect.
    /// </summary>
    private static Regex WholeWords(IEnumerable<string> terms)
    {
        static string Alternative(string t)
        {
            var stem = t.EndsWith('*');
            var escaped = Regex.Escape(stem ? t[..^1] : t).Replace("\\ ", "\\s+");
            return stem ? escaped + @"\p{L}*" : escaped;
        }
        var ordered = terms.OrderByDescending(t => t.Length).ToList();
        var spaced = ordered.Where(t => !IsUnspacedScript(t)).Select(Alternative).ToList();
        var unspaced = ordered.Where(IsUnspacedScript).Select(Alternative).ToList();
        var pattern = spaced.Count == 0 ? "(?!)" : $@"(?<![\p{{L}}\p{{N}}])(?:{string.Join('|', spaced)})(?![\p{{L}}\p{{N}}])";
        if (unspaced.Count > 0) pattern += $"|(?:{string.Join('|', unspaced)})";
        return new Regex(pattern, RegexOptions.Compiled | RegexOptions.CultureInvariant);
    }

    /// <summary>Whether a term is written in a script without spaces between words: hiragana, katakana or Han.</summary>
    public static bool IsUnspacedScript(string term) => term.Any(IsUnspacedScript);

    /// <summary>Whether a character belongs to a script without spaces between words: hiragana, katakana or Han.</summary>
    public static bool IsUnspacedScript(char c) =>
        c is >= '\u3040' and <= '\u30ff' or >= '\u3400' and <= '\u9fff' or >= '\uf900' and <= '\ufaff' or >= '\uff66' and <= '\uff9f';
}
