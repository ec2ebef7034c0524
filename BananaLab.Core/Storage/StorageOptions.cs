using System.ComponentModel.DataAnnotations;

namespace BananaLab.Core.Storage;

public sealed class StorageOptions
{
    public const string Section = "Storage";

    /// <summary>Holds the database and every image file; relative paths resolve against the working directory.</summary>
    [Required(ErrorMessage = "Storage:DataDirectory is required.")]
    public string DataDirectory { get; set; } = "./data";

    /// <summary>The largest reference image accepted, in bytes.</summary>
    [Range(1024, 100 * 1024 * 1024, ErrorMessage = "Storage:MaxReferenceImageBytes must be between 1 KiB and 100 MiB.")]
    public long MaxReferenceImageBytes { get; set; } = 20 * 1024 * 1024;

    /// <summary>The largest reference image accepted, in pixels (checked from the header, before decoding).</summary>
    [Range(64 * 64, 100_000_000, ErrorMessage = "Storage:MaxReferenceImagePixels must be between 4096 and 100000000.")]
    public long MaxReferenceImagePixels { get; set; } = 4096L * 4096;

    public string FullDataDirectory => Path.GetFullPath(DataDirectory);
}
