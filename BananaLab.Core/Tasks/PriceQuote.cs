namespace BananaLab.Core.Tasks;

/// <summary>
/// The price of a request, computed exactly as a submission would be charged (<see cref="SubmissionValidator.Quote"/>):
/// the size tier and exact pixel size, the image count and credits per image.
/// </summary>
public sealed record PriceQuote(string ModelId, SizeTier Tier, int Width, int Height, int ImageCount, int PricePerImage)
{
    /// <summary>Credits for the whole request: the price per image times the count.</summary>
    public int Total => PricePerImage * ImageCount;
}
