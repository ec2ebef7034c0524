using BananaLab.Core.Images;
using SkiaSharp;

namespace BananaLab.Tests.Images;

public sealed class ImageDecodingTests
{
    [Theory]
    [InlineData(3)]
    [InlineData(6)]
    [InlineData(8)]
    public void Exif_orientation_is_applied_when_a_jpeg_is_decoded(ushort orientation)
    {
        var jpeg = TestImages.JpegWithOrientation(32, 64, orientation);

        using var decoded = ImageDecoding.DecodeUpright(jpeg, out var error);

        Assert.True(decoded is not null, error);
        Assert.Equal((32, 64), (decoded.Width, decoded.Height));
        TestImages.AssertUpright(decoded);
    }

    [Fact]
    public void Verify_reports_the_orientation_of_a_whole_file()
    {
        Assert.Equal(SKEncodedOrigin.RightTop, ImageDecoding.Verify(TestImages.JpegWithOrientation6(32, 64), out _));
        Assert.Equal(SKEncodedOrigin.TopLeft, ImageDecoding.Verify(TestImages.Png(32, 64), out _));
    }

    [Theory]
    [InlineData("newline")]
    [InlineData("zero padding")]
    [InlineData("samsung")]
    [InlineData("motion photo")]
    public void Jpeg_with_bytes_after_its_end_marker_is_read_and_decoded(string trailer)
    {
        byte[] jpeg = [.. TestImages.Jpeg(32, 64), .. TestImages.Trailer(trailer)];

        Assert.True(ImageHeader.TryRead(jpeg, out var header, out var error), error);
        Assert.Equal((32, 64), (header!.Width, header.Height));
        using var decoded = ImageDecoding.DecodeUpright(jpeg, out error);
        Assert.True(decoded is not null, error);
        TestImages.AssertUpright(decoded);
    }

    [Fact]
    public void Jpeg_cut_inside_its_scan_data_is_still_truncated()
    {
        var jpeg = TestImages.Jpeg(64, 64);
        Assert.False(ImageHeader.TryRead(jpeg[..(jpeg.Length - 40)], out _, out var error));
        Assert.Contains("truncated", error);
    }

    [Fact]
    public void Jpeg_whose_scan_data_is_cut_does_not_decode()
    {
        var jpeg = TestImages.Jpeg(64, 64);

        Assert.Null(ImageDecoding.Verify(jpeg[..(jpeg.Length - 30)], out var error));
        Assert.Contains("JPEG image data is damaged", error);
    }

    [Fact]
    public void Png_with_garbage_image_data_and_right_crcs_is_damaged_not_black()
    {
        var png = TestImages.PngWithGarbageIdat(64, 64);
        Assert.True(ImageHeader.TryRead(png, out _, out _));

        Assert.Null(ImageDecoding.Verify(png, out var error));
        Assert.Contains("PNG image data is damaged", error);
        Assert.Null(ImageDecoding.DecodeUpright(png, out error));
        Assert.Contains("damaged", error);
    }
}
