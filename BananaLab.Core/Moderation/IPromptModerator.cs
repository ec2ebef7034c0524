namespace BananaLab.Core.Moderation;

/// <summary>Screens a prompt before any task is queued or any credit moves.</summary>
public interface IPromptModerator
{
    ValueTask<ModerationDecision> ScreenAsync(ModerationRequest request, CancellationToken cancellationToken);
}

/// <summary>Screens an image (a reference upload or a generated output).</summary>
public interface IImageModerator
{
    /// <summary>False when no classifier is configured: checks then only record that fact.</summary>
    bool IsConfigured { get; }

    ValueTask<ModerationDecision> CheckAsync(ReadOnlyMemory<byte> encodedImage, CancellationToken cancellationToken);
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

/// <summary>Used where no image classifier is configured: allows, and says so in the decision record.</summary>
public sealed class NoImageClassifier : IImageModerator
{
    public bool IsConfigured => false;

    public ValueTask<ModerationDecision> CheckAsync(ReadOnlyMemory<byte> encodedImage, CancellationToken cancellationToken) =>
        ValueTask.FromResult(new ModerationDecision(true, [], [], Note: "no image classifier is configured"));
}
