namespace BananaLab.Core.Tasks;

/// <summary>The sizes the product sells, by longest edge.</summary>
public enum SizeTier
{
    OneK = 1,
    TwoK = 2,
    FourK = 4,
}

public readonly record struct AspectRatio(int Width, int Height)
{
    public static readonly AspectRatio Square = new(1, 1);
    public static readonly IReadOnlyList<AspectRatio> Offered =
        [Square, new(4, 3), new(3, 4), new(16, 9), new(9, 16)];

    public override string ToString() => $"{Width}:{Height}";

    public static bool TryParse(string? value, out AspectRatio ratio)
    {
        ratio = Square;
        if (string.IsNullOrWhiteSpace(value)) return true;
        var parts = value.Split(':');
        if (parts.Length == 2 && int.TryParse(parts[0], out var w) && int.TryParse(parts[1], out var h))
        {
            var candidate = new AspectRatio(w, h);
            if (Offered.Contains(candidate)) { ratio = candidate; return true; }
        }
        return false;
    }
}

public static class SizeTiers
{
    public const int MinEdge = 64;
    public const int MaxEdge = 4096;

    public static int LongestEdge(this SizeTier tier) => (int)tier * 1024;

    public static string Label(this SizeTier tier) => $"{(int)tier}K";

    public static bool TryParse(string? value, out SizeTier tier)
    {
        tier = SizeTier.OneK;
        switch (value?.Trim().ToUpperInvariant())
        {
            case "1K": tier = SizeTier.OneK; return true;
            case "2K": tier = SizeTier.TwoK; return true;
            case "4K": tier = SizeTier.FourK; return true;
            default: return false;
        }
    }

    /// <summary>Pixel size of a tier at an aspect ratio; both edges rounded to a multiple of 8.</summary>
    public static (int Width, int Height) PixelSize(SizeTier tier, AspectRatio ratio)
    {
        var longest = tier.LongestEdge();
        if (ratio.Width >= ratio.Height)
            return (longest, RoundTo8(longest * (double)ratio.Height / ratio.Width));
        return (RoundTo8(longest * (double)ratio.Width / ratio.Height), longest);
    }

    /// <summary>The smallest tier whose longest edge covers the given size (explicit width/height requests).</summary>
    public static SizeTier Covering(int width, int height)
    {
        var longest = Math.Max(width, height);
        return longest <= 1024 ? SizeTier.OneK : longest <= 2048 ? SizeTier.TwoK : SizeTier.FourK;
    }

    private static int RoundTo8(double value) => Math.Max(8, (int)Math.Round(value / 8) * 8);
}
