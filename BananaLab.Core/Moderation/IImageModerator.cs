namespace BananaLab.Core.Moderation;

/// <summary>Screens an image (a reference upload or a generated output).</summary>
public interface IImageModerator
{
    /// <summary>False when no classifier is configured: checks then only record that fact.</summary>
    bool IsConfigured { get; }

    ValueTask<ModerationDecision> CheckAsync(ReadOnlyMemory<byte> encodedImage, CancellationToken cancellationToken);
}

/// <summary>Used where no image classifier is configured: allows, and says so in the decision record.</summary>
public sealed class NoImageClassifier : IImageModerator
{
    public bool IsConfigured => false;

    public ValueTask<ModerationDecision> CheckAsync(ReadOnlyMemory<byte> encodedImage, CancellationToken cancellationToken) =>
        ValueTask.FromResult(new ModerationDecision(true, [], [], Note: "no image classifier is configured"));
}
