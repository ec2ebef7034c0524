using System.Globalization;

namespace BananaLab.Core.Moderation;

/// <summary>
/// A learned text classifier for prompts: one probability per block category (multi-label), compared with that
/// category's threshold. It generalises where term lists cannot (paraphrases, unlisted spellings, other languages); the
/// moderator combines it with the other layers. The worker's implementation runs the ONNX model in
/// <c>models/moderation/prompt-classifier.onnx</c> (tools/moderation-classifier trains it).
/// </summary>
public interface IPromptClassifier
{
    /// <summary>False when no model is configured or present: <see cref="Classify"/> then scores nothing.</summary>
    bool IsLoaded { get; }

    /// <summary>The categories the model scores, in the model's output order (empty when not loaded).</summary>
    IReadOnlyList<string> Categories { get; }

    /// <summary>Per category, the probability (0-1) at or above which the category is flagged.</summary>
    IReadOnlyDictionary<string, double> Thresholds { get; }

    /// <summary>Scores one text (a prompt or a negative prompt). Thread-safe; any length, any script.</summary>
    PromptClassification Classify(string text);
}

/// <summary>One category's probability (0-1) and the threshold it is compared with.</summary>
public readonly record struct CategoryScore(string Category, float Probability, double Threshold)
{
    public bool Flagged => Probability >= Threshold;
}

/// <summary>What the classifier made of one text: every category's score, in the model's order.</summary>
public sealed record PromptClassification(IReadOnlyList<CategoryScore> Scores)
{
    public static PromptClassification None { get; } = new([]);

    /// <summary>The categories at or above their thresholds.</summary>
    public IReadOnlyList<string> Flagged => Scores.Where(s => s.Flagged).Select(s => s.Category).ToList();

    /// <summary>The scores for a decision's note: <c>classifier sexual=0.93 hate=0.01 …</c> (empty when nothing was scored).</summary>
    public string Note => Scores.Count == 0
        ? ""
        : "classifier " + string.Join(' ', Scores.Select(s => $"{s.Category}={s.Probability.ToString("F2", CultureInfo.InvariantCulture)}"));
}

/// <summary>Used where no classifier model is present: scores nothing, so the classifier layer never blocks.</summary>
public sealed class NoPromptClassifier : IPromptClassifier
{
    public bool IsLoaded => false;

    public IReadOnlyList<string> Categories => [];

    public IReadOnlyDictionary<string, double> Thresholds { get; } = new Dictionary<string, double>();

    public PromptClassification Classify(string text) => PromptClassification.None;
}
