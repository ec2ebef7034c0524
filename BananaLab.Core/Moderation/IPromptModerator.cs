namespace BananaLab.Core.Moderation;

/// <summary>Screens a prompt before any task is queued or any credit moves.</summary>
public interface IPromptModerator
{
    ValueTask<ModerationDecision> ScreenAsync(ModerationRequest request, CancellationToken cancellationToken);
}

public sealed record ModerationRequest(Guid UserId, string Prompt, string? NegativePrompt);

public sealed record ModerationDecision(bool Allowed, IReadOnlyList<string> Categories, IReadOnlyList<string> MatchedRules)
{
    public static readonly ModerationDecision Allow = new(true, [], []);
}
