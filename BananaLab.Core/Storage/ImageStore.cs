using System.Security.Cryptography;
using BananaLab.Core.Generation;
using BananaLab.Core.Images;
using BananaLab.Core.Tasks;
using Microsoft.Extensions.Options;

namespace BananaLab.Core.Storage;

/// <summary>Image files on disk under the data directory; the database only holds their paths and hashes.</summary>
public sealed class ImageStore(IOptions<StorageOptions> options)
{
    private string Root => options.Value.FullDataDirectory;

    public string FullPath(string relativePath) => Path.Combine(Root, relativePath);

    /// <summary>
    /// Where the thumbnail of an image with this SHA-256 (hex) is kept, at most <paramref name="edge"/> pixels
    /// on its longer side: <c>{data}/thumbnails/{sha256}-{edge}.webp</c>. Images never change, so neither do
    /// their thumbnails; one deleted under another task with the same pixels is simply made again.
    /// </summary>
    public string ThumbnailPath(string sha256, int edge) => Path.Combine(Root, "thumbnails", $"{sha256}-{edge}.webp");

    /// <summary>Removes a task's files: its output images, their thumbnails, and its reference image.</summary>
    public void DeleteTaskFiles(GenerationTask task)
    {
        foreach (var image in task.Images)
        {
            DeleteQuietly(image.FilePath);
            foreach (var thumbnail in ThumbnailsOf(image.Sha256)) TryDelete(thumbnail);
        }
        DeleteQuietly(task.ReferenceImagePath);
        if (task.ReferenceImagePath is { } reference) DeleteQuietly(MaskPathOf(reference));
    }

    /// <summary>
    /// Where the mask of a reference image is kept: beside it, <c>references/{task}.mask.png</c>. A task has a mask exactly
    /// when this file exists (masks need a reference, and are saved and deleted with it).
    /// </summary>
    public static string MaskPathOf(string referencePath) =>
        Path.Combine(Path.GetDirectoryName(referencePath) ?? "", Path.GetFileNameWithoutExtension(referencePath) + ".mask.png");

    /// <summary>Saves a reference image's mask (<see cref="MaskPathOf"/>); returns its path relative to the data directory.</summary>
    public async Task<string> SaveMaskAsync(string referencePath, byte[] data, CancellationToken cancellationToken)
    {
        var relative = MaskPathOf(referencePath);
        var full = FullPath(relative);
        await File.WriteAllBytesAsync(full + ".tmp", data, cancellationToken);
        File.Move(full + ".tmp", full, overwrite: true);
        return relative;
    }

    private IEnumerable<string> ThumbnailsOf(string sha256)
    {
        var directory = Path.Combine(Root, "thumbnails");
        return Directory.Exists(directory) ? Directory.EnumerateFiles(directory, $"{sha256}-*.webp") : [];
    }

    private static void TryDelete(string fullPath)
    {
        try { File.Delete(fullPath); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    public async Task<string> SaveReferenceAsync(Guid taskId, ImageHeader header, byte[] data, CancellationToken cancellationToken)
    {
        var relative = Path.Combine("references", taskId.ToString("N") + header.Extension);
        var full = FullPath(relative);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        var temp = full + ".tmp";
        await File.WriteAllBytesAsync(temp, data, cancellationToken);
        File.Move(temp, full, overwrite: true);
        return relative;
    }

    /// <summary>A fresh set of output files for one run of a task; nothing is visible until <see cref="TaskImageWriter.Commit"/>.</summary>
    public TaskImageWriter CreateOutput(GenerationTask task) =>
        new(Root, Path.Combine("images", task.CreatedAt.ToString("yyyy-MM"), task.Id.ToString("N")), task.OutputFormat);

    public void DeleteQuietly(string? relativePath)
    {
        if (relativePath is not null) TryDelete(FullPath(relativePath));
    }
}

/// <summary>
/// Receives a generator's encoded images as they are written, hashing and counting bytes on the way,
/// into temporary files that become the task's files only on commit.
/// </summary>
public sealed class TaskImageWriter(string root, string relativeDirectory, OutputFormat format) : IImageOutput, IDisposable
{
    private readonly Dictionary<int, HashingFileStream> _files = [];
    private readonly string _attempt = Guid.NewGuid().ToString("N")[..8];

    public Stream Create(int index)
    {
        if (_files.ContainsKey(index)) throw new InvalidOperationException($"Image {index} was already written.");
        var directory = Path.Combine(root, relativeDirectory);
        Directory.CreateDirectory(directory);
        var stream = new HashingFileStream(Path.Combine(directory, $"{index}.{_attempt}.tmp"));
        _files[index] = stream;
        return stream;
    }

    /// <summary>The encoded bytes written for one image so far (for the output image check before commit).</summary>
    public byte[] ReadWritten(int index)
    {
        var file = _files[index];
        file.Dispose();
        return File.ReadAllBytes(file.Path);
    }

    /// <summary>Moves the written files to their final names and describes them for the database.</summary>
    public IReadOnlyList<TaskImage> Commit(Guid taskId, IReadOnlyList<GeneratedImage> images)
    {
        var result = new List<TaskImage>(images.Count);
        foreach (var image in images.OrderBy(i => i.Index))
        {
            if (!_files.TryGetValue(image.Index, out var file))
                throw new GenerationException(TaskErrors.NoImage, $"Image {image.Index} was reported but never written.");
            file.Dispose();
            if (file.Length == 0)
                throw new GenerationException(TaskErrors.NoImage, $"Image {image.Index} is empty.");
            var relative = Path.Combine(relativeDirectory, $"{image.Index}{format.Extension()}");
            File.Move(file.Path, Path.Combine(root, relative), overwrite: true);
            result.Add(new TaskImage
            {
                TaskId = taskId, Index = image.Index, FilePath = relative, Width = image.Width, Height = image.Height,
                ByteSize = file.Length, Sha256 = file.Sha256, ContentType = format.ContentType(),
            });
        }
        _files.Clear();
        return result;
    }

    /// <summary>Removes whatever a failed or abandoned run wrote.</summary>
    public void Dispose()
    {
        foreach (var file in _files.Values)
        {
            file.Dispose();
            try { File.Delete(file.Path); } catch (IOException) { }
        }
        _files.Clear();
    }

    private sealed class HashingFileStream(string path) : Stream
    {
        private readonly FileStream _inner = new(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16);
        private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        private string? _sha256;
        private long _length;

        public string Path => path;
        public string Sha256 => _sha256 ?? throw new InvalidOperationException("The file is still open.");
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => _length;
        public override long Position { get => _length; set => throw new NotSupportedException(); }

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            _inner.Write(buffer);
            _hash.AppendData(buffer);
            _length += buffer.Length;
        }

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            await _inner.WriteAsync(buffer, cancellationToken);
            _hash.AppendData(buffer.Span);
            _length += buffer.Length;
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override void Flush() => _inner.Flush();
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing && _sha256 is null)
            {
                _inner.Dispose();
                _sha256 = Convert.ToHexStringLower(_hash.GetHashAndReset());
                _hash.Dispose();
            }
            base.Dispose(disposing);
        }
    }
}
