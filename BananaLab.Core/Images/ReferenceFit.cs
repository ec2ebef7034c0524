namespace BananaLab.Core.Images;

/// <summary>
/// How a reference image whose aspect ratio differs from the output's is framed before image-to-image
/// (<c>referenceFit</c> in the native API, "cover" when not given).
/// </summary>
public enum ReferenceFit
{
    /// <summary>The centred crop with the output's aspect, scaled to fill it: nothing is added, the edges are lost.</summary>
    Cover = 0,
    /// <summary>The whole reference scaled to fit inside the output, the rest padded with the reference's mean colour.</summary>
    Contain = 1,
}

/// <summary>The API names of <see cref="ReferenceFit"/>.</summary>
public static class ReferenceFits
{
    /// <summary>"cover" or "contain" (any case; null or blank is cover); false for anything else.</summary>
    public static bool TryParse(string? text, out ReferenceFit fit)
    {
        fit = ReferenceFit.Cover;
        if (string.IsNullOrWhiteSpace(text) || text.Trim().Equals("cover", StringComparison.OrdinalIgnoreCase)) return true;
        if (!text.Trim().Equals("contain", StringComparison.OrdinalIgnoreCase)) return false;
        fit = ReferenceFit.Contain;
        return true;
    }
}
