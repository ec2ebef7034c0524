using System.Diagnostics;
using BananaLab.Core.Cluster;
using BananaLab.Core.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace BananaLab.Core.Moderation;

/// <summary>
/// Prompt screening over the built-in term lists, configured terms and the admins' terms in the database.
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

    public PromptModerator(IDbContextFactory<BananaLabDbContext> dbFactory, IOptions<ModerationOptions> options,
        IClusterBroadcast broadcast, TimeProvider clock)
    {
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
        var (categories, matched, normalized) = rules.Screen(request.Prompt + "\n" + request.NegativePrompt);
        var latency = (long)Stopwatch.GetElapsedTime(started).TotalMicroseconds;
        return new ModerationDecision(categories.Count == 0, categories, matched, normalized, LatencyMicroseconds: latency);
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
