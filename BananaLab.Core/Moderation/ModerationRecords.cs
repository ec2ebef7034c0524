namespace BananaLab.Core.Moderation;

/// <summary>A term an admin added (or a built-in term an admin switched off), effective without a restart.</summary>
public sealed class ModerationTerm
{
    public long Id { get; set; }
    public required string Category { get; set; }
    public required string Term { get; set; }
    /// <summary>True: the term blocks. False: a built-in term with this text is switched off.</summary>
    public bool Blocks { get; set; } = true;
    public required string Reason { get; set; }
    public Guid? ActorUserId { get; set; }
    public DateTime CreatedAt { get; set; }
    /// <summary>Set when an admin withdraws this entry; withdrawn entries stay for the audit trail.</summary>
    public DateTime? WithdrawnAt { get; set; }
}

/// <summary>An admin's mark on a screening decision, which the labelled export turns into a training label.</summary>
public enum ModerationReviewVerdict
{
    /// <summary>The decision was right: exported with the label it got.</summary>
    Correct,
    /// <summary>It blocked, wrongly: exported as <c>allow</c>.</summary>
    ShouldHavePassed,
    /// <summary>It allowed, wrongly: exported as <c>block</c> with the admin's category.</summary>
    ShouldHaveBlocked,
}

/// <summary>Where a decision stands in the review loop; each decision is in exactly one state.</summary>
public enum ModerationReviewState
{
    /// <summary>No mark, and its user did not ask.</summary>
    Unreviewed,
    /// <summary>Its user asked for a review and no admin has marked it yet.</summary>
    Requested,
    /// <summary>Marked "should have passed" or "should have blocked".</summary>
    MarkedWrong,
    MarkedCorrect,
}

/// <summary>The audit record of one screening (a prompt, a reference image or an output image).</summary>
public sealed class ModerationDecisionRecord
{
    public long Id { get; set; }
    public Guid UserId { get; set; }
    public Guid? TaskId { get; set; }
    /// <summary>prompt, reference_image or output_image.</summary>
    public required string Subject { get; set; }
    public bool Allowed { get; set; }
    /// <summary>Comma-separated categories that blocked (empty when allowed).</summary>
    public string Categories { get; set; } = "";
    /// <summary>Comma-separated rule ids that matched.</summary>
    public string MatchedRules { get; set; } = "";
    public string? NormalizedText { get; set; }
    public string? Note { get; set; }
    public long LatencyMicroseconds { get; set; }
    public string Source { get; set; } = "api";
    public DateTime CreatedAt { get; set; }

    /// <summary>The prompt as its user typed it, kept only for a review asked from the studio's live check, which makes no task (a task keeps its own prompt).</summary>
    public string? Prompt { get; set; }
    /// <summary>When the user asked for a review of this refusal (at most once); null when nobody asked.</summary>
    public DateTime? ReviewRequestedAt { get; set; }
    /// <summary>An admin's mark; null while unreviewed. A later mark replaces it.</summary>
    public ModerationReviewVerdict? ReviewVerdict { get; set; }
    /// <summary>For <see cref="ModerationReviewVerdict.ShouldHaveBlocked"/>: the category the admin says it belongs to.</summary>
    public string? ReviewCategory { get; set; }
    public string? ReviewNote { get; set; }
    public Guid? ReviewedBy { get; set; }
    public DateTime? ReviewedAt { get; set; }

    public static ModerationDecisionRecord From(ModerationDecision decision, Guid userId, Guid? taskId, string subject, string source, DateTime now) => new()
    {
        UserId = userId,
        TaskId = taskId,
        Subject = subject,
        Allowed = decision.Allowed,
        Categories = string.Join(',', decision.Categories),
        MatchedRules = Truncate(string.Join(',', decision.MatchedRules), 1000)!,
        NormalizedText = Truncate(decision.NormalizedText, 2000),
        Note = Truncate(decision.Note, 500),
        LatencyMicroseconds = decision.LatencyMicroseconds,
        Source = source,
        CreatedAt = now,
    };

    private static string? Truncate(string? value, int max) => value is null || value.Length <= max ? value : value[..max];
}
