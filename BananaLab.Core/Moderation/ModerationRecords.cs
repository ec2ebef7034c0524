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
