using System.Diagnostics;
using BananaLab.Core.Cluster;
using BananaLab.Core.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace BananaLab.Core.Moderation;

/// <summary>
/// Prompt screening in two layers, and the decision is the most severe of them (issue 18):
/// <list type="bullet">
/// <item>the rule layer (<see cref="ModerationRuleSet"/>): the built-in term lists in ten languages, their WordNet
///   expansion, configured terms and the admins' terms in the database, with <see cref="StructuralRules"/>; its rule ids
///   go in <see cref="ModerationDecision.MatchedRules"/> (<c>en/sexual:porn</c>, <c>wordnet:…</c>, <c>structure:…</c>,
///   <c>config:…</c>, <c>admin#…</c>);</item>
/// <item>the learned classifier (<see cref="IPromptClassifier"/>), over the prompt (a negative prompt steers away from
///   what it names, so it is left to the rules): each flagged category adds <c>classifier:&lt;category&gt;</c> to the rule
///   ids, and every score goes in the decision's note (<c>classifier sexual=0.93 hate=0.01 …</c>), blocked or not. It
///   blocks only a prompt of at least <see cref="ClassifierMinimumWords"/> words, and reads it without identifiers
///   (<see cref="ClassifierInput"/>).</item>
/// </list>
/// The compiled rules are rebuilt when an admin changes a term (at once on every node told through
/// <see cref="IClusterBroadcast"/>, within <see cref="ModerationOptions.ReloadSeconds"/> elsewhere).
/// </summary>
public sealed class PromptModerator : IPromptModerator
{
    /// <summary>Broadcast topic: an admin changed a term, so every node rebuilds its rules.</summary>
    public const string TermsChangedTopic = "moderation:terms-changed";
    private static readonly Lazy<IReadOnlyList<ModerationTermEntry>> BuiltIn = new(() => [.. BuiltInTerms.Load(), .. BuiltInTerms.LoadWordNet()]);
    private readonly SemaphoreSlim _reload = new(1, 1);
    private volatile ModerationRuleSet? _rules;
    private DateTime _loadedAt;
    private volatile bool _stale = true;
    private readonly IDbContextFactory<BananaLabDbContext> _dbFactory;
    private readonly IOptions<ModerationOptions> _options;
    private readonly IClusterBroadcast _broadcast;
    private readonly TimeProvider _clock;
    private readonly IPromptClassifier _classifier;

    public PromptModerator(IDbContextFactory<BananaLabDbContext> dbFactory, IOptions<ModerationOptions> options,
        IClusterBroadcast broadcast, TimeProvider clock, IPromptClassifier classifier)
    {
        _classifier = classifier;
        _dbFactory = dbFactory;
        _options = options;
        _broadcast = broadcast;
        _clock = clock;
        broadcast.Subscribe(TermsChangedTopic, _ => _stale = true);
    }

    public async ValueTask<ModerationDecision> ScreenAsync(ModerationRequest request, CancellationToken cancellationToken)
    {
        var rules = await RulesAsync(cancellationToken);
        var started = Stopwatch.GetTimestamp();
        var (ruleCategories, ruleIds, normalized) = rules.Screen(request.Prompt + "\n" + request.NegativePrompt);
        var input = ClassifierInput(request.Prompt);
        var classification = _classifier.IsLoaded ? _classifier.Classify(input ?? request.Prompt) : PromptClassification.None;
        var flagged = input is null ? [] : classification.Flagged;
        var categories = ruleCategories.Union(flagged).Order(StringComparer.Ordinal).ToList();
        var matched = ruleIds.Concat(flagged.Select(c => $"classifier:{c}")).ToList();
        var latency = (long)Stopwatch.GetElapsedTime(started).TotalMicroseconds;
        return new ModerationDecision(categories.Count == 0, categories, matched, normalized,
            Note: classification.Scores.Count == 0 ? null : classification.Note, LatencyMicroseconds: latency);
    }

    /// <summary>
    /// The fewest words a prompt needs before the classifier's verdict counts on its own. One or two words give a
    /// character n-gram model too little to go on: it flagged "mine" as sexual and "hooked" as violence. Such prompts are
    /// still screened by the rules, and their scores are still recorded.
    /// </summary>
    public const int ClassifierMinimumWords = 3;

    /// <summary>
    /// What the classifier may block on: <paramref name="prompt"/> without identifiers (a token of 12 or more characters
    /// with a digit in it: a hash, an id, a seed string, whose random character n-grams the model was never trained on),
    /// or null when fewer than <see cref="ClassifierMinimumWords"/> words are left. A word has two letters or more; in a
    /// script written without spaces (Japanese) every two characters count as a word.
    /// </summary>
    public static string? ClassifierInput(string prompt)
    {
        var kept = new List<string>();
        var words = 0;
        foreach (var token in prompt.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries))
        {
            if (token.Length >= 12 && token.Any(char.IsDigit)) continue;
            kept.Add(token);
            var unspaced = token.Count(ModerationRuleSet.IsUnspacedScript);
            if (unspaced >= 2) words += (unspaced + 1) / 2;
            else if (token.Count(char.IsLetter) >= 2) words++;
        }
        return words >= ClassifierMinimumWords ? string.Join(' ', kept) : null;
    }

    /// <summary>Marks every node's rules for rebuilding (an admin changed a term).</summary>
    public Task InvalidateAsync() => _broadcast.PublishAsync(TermsChangedTopic, "changed");

    public async ValueTask<ModerationRuleSet> RulesAsync(CancellationToken cancellationToken)
    {
        var now = _clock.GetUtcNow().UtcDateTime;
        if (_rules is { } current && !_stale && now - _loadedAt < TimeSpan.FromSeconds(_options.Value.ReloadSeconds)) return current;
        await _reload.WaitAsync(cancellationToken);
        try
        {
            if (_rules is { } fresh && !_stale && now - _loadedAt < TimeSpan.FromSeconds(_options.Value.ReloadSeconds)) return fresh;
            _stale = false;
            await using var db = await _dbFactory.CreateDbContextAsync(cancellationToken);
            var admin = await db.Set<ModerationTerm>().AsNoTracking().Where(t => t.WithdrawnAt == null).ToListAsync(cancellationToken);
            var switchedOff = admin.Where(t => !t.Blocks).Select(t => (t.Category, Term: TextNormalizer.Term(t.Term))).ToHashSet();
            var entries = BuiltIn.Value
                .Where(e => !switchedOff.Contains((e.Category, TextNormalizer.Term(e.Term))))
                .Concat(_options.Value.BlockedTerms.Select(t => new ModerationTermEntry("custom", t, $"config:{t}")))
                .Concat(admin.Where(t => t.Blocks).Select(t => new ModerationTermEntry(t.Category, t.Term, $"admin#{t.Id}:{t.Term}")));
            _rules = new ModerationRuleSet(entries);
            _loadedAt = now;
            return _rules;
        }
        finally
        {
            _reload.Release();
        }
    }
}
