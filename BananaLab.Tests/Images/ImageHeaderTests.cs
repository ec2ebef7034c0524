using BananaLab.Core.Images;
using BananaLab.Tests.Infrastructure;

namespace BananaLab.Tests.Images;

public sealed class ImageHeaderTests
{
    [Fact]
    public void Png_size_is_read_from_the_header()
    {
        Assert.True(ImageHeader.TryRead(ScriptedGenerator.TinyPng, out var header, out _));
        Assert.Equal(("image/png", 1, 1), (header!.ContentType, header.Width, header.Height));
    }

    [Fact]
    public void Jpeg_size_is_read_from_the_start_of_frame_after_other_segments()
    {
        byte[] jpeg =
        [
            0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, (byte)'J', (byte)'F', (byte)'I', (byte)'F', 0, 1, 1, 0, 0, 1, 0, 1, 0, 0,
            0xFF, 0xC0, 0x00, 0x11, 0x08, 0x02, 0x00, 0x03, 0x20, 0x03, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1, 0, 0, 0xFF, 0xD9,
        ];
        Assert.True(ImageHeader.TryRead(jpeg, out var header, out var error), error);
        Assert.Equal(("image/jpeg", 800, 512), (header!.ContentType, header.Width, header.Height));
    }

    [Fact]
    public void Webp_lossless_size_is_read_from_the_bitstream_header()
    {
        var webp = new byte[32];
        "RIFF"u8.CopyTo(webp);
        BitConverter.TryWriteBytes(webp.AsSpan(4), 24u);
        "WEBPVP8L"u8.CopyTo(webp.AsSpan(8));
        webp[20] = 0x2F;
        var bits = (uint)(640 - 1) | (uint)(480 - 1) << 14;
        BitConverter.TryWriteBytes(webp.AsSpan(21), bits);
        Assert.True(ImageHeader.TryRead(webp, out var header, out var error), error);
        Assert.Equal(("image/webp", 640, 480), (header!.ContentType, header.Width, header.Height));
    }

    [Theory]
    [InlineData("GIF89a0000000000000000", "only PNG, JPEG and WebP")]
    [InlineData("short", "too short")]
    public void Other_files_are_refused_with_a_reason(string content, string reason)
    {
        Assert.False(ImageHeader.TryRead(System.Text.Encoding.ASCII.GetBytes(content), out _, out var error));
        Assert.Contains(reason, error);
    }

    [Theory]
    [InlineData(20, "damaged")]
    [InlineData(40, "truncated")]
    [InlineData(60, "truncated")]
    public void Truncated_png_is_refused(int length, string reason)
    {
        Assert.False(ImageHeader.TryRead(ScriptedGenerator.TinyPng[..length], out _, out var error));
        Assert.Contains(reason, error);
    }
}
