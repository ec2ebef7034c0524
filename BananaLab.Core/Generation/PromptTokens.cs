namespace BananaLab.Core.Generation;

/// <summary>
/// How a prompt reads to a model (<see cref="IImageGenerator.CountPromptTokens"/>): <paramref name="Count"/> tokens under
/// the model's own tokenizer, and <paramref name="Limit"/>, the most it reads (null: no fixed limit, as with chunked text
/// embeddings). The studio shows it as "63 / 75"; submission refuses a prompt over the limit (<c>prompt_too_long_for_model</c>).
/// </summary>
public sealed record PromptTokens(int Count, int? Limit)
{
    /// <summary>Whether the model would not read all of the prompt.</summary>
    public bool Exceeds => Limit is { } limit && Count > limit;
}
