namespace BananaLab.Core.Data;

/// <summary>Page numbers from clients, turned into row offsets.</summary>
public static class Paging
{
    /// <summary>
    /// Rows before page <paramref name="page"/> (1-based; below 1 counts as 1). Computed in 64 bits and capped, so a huge
    /// page number is past the end (an empty page) instead of overflowing back to the first page.
    /// </summary>
    public static int Offset(int page, int pageSize) =>
        (int)Math.Min(int.MaxValue, (Math.Max(1L, page) - 1) * Math.Max(0L, pageSize));
}
