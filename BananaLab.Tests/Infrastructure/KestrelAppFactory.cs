namespace BananaLab.Tests.Infrastructure;

/// <summary>The app on a real Kestrel listener (loopback, port 0): responses go through the whole HTTP stack, as a browser sees them.</summary>
public sealed class KestrelAppFactory : BananaLabFactory
{
    public KestrelAppFactory() => UseKestrel(0);
}
