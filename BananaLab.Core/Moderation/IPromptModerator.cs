namespace BananaLab.Core.Moderation;

/// <summary>Screens a prompt before any task is queued or any credit moves.</summary>
public interface IPromptModerator
{
    ValueTask<ModerationDecision> ScreenAsync(ModerationRequest request, CancellationToken cancellationToken);
}

public sealed record ModerationRequest(Guid UserId, string Prompt, string? NegativePrompt);

/// <summary>The outcome of one screening; the matched rules and normalised text are for admins, never for the user.</summary>
public sealed record ModerationDecision(
    bool Allowed,
    IReadOnlyList<string> Categories,
    IReadOnlyList<string> MatchedRules,
    string? NormalizedText = null,
    string? Note = null,
    long LatencyMicroseconds = 0)
{
    public static readonly ModerationDecision Allow = new(true, [], []);

    /// <summary>What every refused user sees: short, neutral, and free of the matched term.</summary>
    public const string NeutralMessage = "This prompt can't be generated. Please revise it and try again.";
}
