using BananaLab.Core.Data;
using Microsoft.EntityFrameworkCore;

namespace BananaLab.Core.Moderation;

/// <summary>Admins add blocking terms or switch off built-in ones, with a reason; changes apply without a restart.</summary>
public sealed class ModerationTermsService(IDbContextFactory<BananaLabDbContext> dbFactory, PromptModerator moderator, TimeProvider clock)
{
    public static readonly string[] Categories = [.. ModerationRuleSet.BlockingCategories, ModerationRuleSet.Minors, ModerationRuleSet.SexualSoft, ModerationRuleSet.Allow];

    public async Task<IReadOnlyList<ModerationTerm>> ListAsync(CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return await db.Set<ModerationTerm>().AsNoTracking().OrderByDescending(t => t.Id).ToListAsync(cancellationToken);
    }

    /// <summary>Adds a term that blocks (or, with <paramref name="blocks"/> false, switches a built-in term off). Returns an error message or null.</summary>
    public async Task<string?> AddAsync(string category, string term, bool blocks, string reason, Guid actorUserId, CancellationToken cancellationToken)
    {
        if (!Categories.Contains(category)) return $"Unknown category '{category}'; use one of {string.Join(", ", Categories)}.";
        if (string.IsNullOrWhiteSpace(term) || TextNormalizer.Term(term.TrimEnd('*')).Length < 2) return "The term needs at least two letters.";
        if (term.Length > 100) return "The term is longer than 100 characters.";
        if (string.IsNullOrWhiteSpace(reason)) return "Give a reason for the audit trail.";
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        db.Add(new ModerationTerm
        {
            Category = category, Term = term.Trim(), Blocks = blocks, Reason = reason.Trim(), ActorUserId = actorUserId,
            CreatedAt = clock.GetUtcNow().UtcDateTime,
        });
        await db.SaveChangesAsync(cancellationToken);
        await moderator.InvalidateAsync();
        return null;
    }

    public async Task<bool> WithdrawAsync(long id, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var now = clock.GetUtcNow().UtcDateTime;
        var withdrawn = await db.Set<ModerationTerm>().Where(t => t.Id == id && t.WithdrawnAt == null)
            .ExecuteUpdateAsync(s => s.SetProperty(t => t.WithdrawnAt, now), cancellationToken) == 1;
        await moderator.InvalidateAsync();
        return withdrawn;
    }
}
