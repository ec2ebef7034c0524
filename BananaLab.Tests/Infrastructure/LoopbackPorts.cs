using System.Net;
using System.Net.Sockets;

namespace BananaLab.Tests.Infrastructure;

public static class LoopbackPorts
{
    /// <summary>A port nothing listens on right now on 127.0.0.1, for a server the test starts.</summary>
    public static int Free()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
