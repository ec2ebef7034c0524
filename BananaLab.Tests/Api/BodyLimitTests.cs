using Xunit.Abstractions;
using System.Net;
using System.Text;
using BananaLab.Tests.Infrastructure;
using BananaLab.Web.Api;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Options;

namespace BananaLab.Tests.Api;

/// <summary>
/// One body limit (32 MiB, <see cref="RequestBodies.MaxBytes"/>) for the server and every dialect, on a real
/// Kestrel: a body under it reaches the handler, a body over it is answered in the endpoint's own envelope.
/// </summary>
public sealed class BodyLimitTests(KestrelAppFactory app, ITestOutputHelper output) : IClassFixture<KestrelAppFactory>
{
    [Fact]
    public async Task The_server_limit_is_the_one_the_readme_states_and_a_body_of_exactly_that_size_reaches_the_dialect()
    {
        var key = await StartWithUserAsync();
        var readme = File.ReadAllText(Path.Combine(RepositoryPaths.Root, "README.md"));
        var stated = System.Text.RegularExpressions.Regex.Match(readme, @"request bodies are capped at (\d+) MiB \(([\d,]+) bytes");
        Assert.True(stated.Success, "README no longer states the body limit");
        Assert.Equal(RequestBodies.MaxBytes, long.Parse(stated.Groups[2].Value.Replace(",", "")));
        Assert.Equal(RequestBodies.MaxBytes, long.Parse(stated.Groups[1].Value) * 1024 * 1024);
        Assert.Contains($"| `body_too_large` | 413 | the body is over {stated.Groups[1].Value} MiB |", readme);
        Assert.Equal(RequestBodies.MaxBytes, app.Services.GetRequiredService<IOptions<KestrelServerOptions>>().Value.Limits.MaxRequestBodySize);

        // Exactly at the limit (over Kestrel's old 30,000,000-byte default): fastDeploy reads it and names what is missing.
        using var response = await app.CreateClient(key).PostAsync("/async", Padded((int)RequestBodies.MaxBytes));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("'data' is required", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task A_body_over_the_limit_is_refused_by_every_endpoint_that_takes_one_in_its_own_envelope()
    {
        var key = await StartWithUserAsync();
        var endpoints = MappedEndpoints.Api(app.Services).Where(e => e.Method is "POST" or "PUT" or "PATCH").ToList();
        Assert.True(endpoints.Count >= 15, $"only {endpoints.Count} endpoints take a body");

        var baseAddress = app.CreateClient().BaseAddress!;
        var problems = new List<string>();
        foreach (var endpoint in endpoints)
        {
            var (status, mediaType, text) = await SendHeadOfOversizeBodyAsync(baseAddress, endpoint,
                endpoint.Pattern.StartsWith("/api/v1/admin") ? BananaLabFactory.AdminApiKey : key);
            if (status >= 500 || status == 0)
                problems.Add($"{endpoint}: {status} {text[..Math.Min(200, text.Length)]}");
            else if (status == 413 || text.Contains("too large"))
            {
                if (MappedEndpoints.EnvelopeProblem(endpoint.Path, status, mediaType, text) is { } wrong)
                    problems.Add($"{endpoint}: {wrong}: {text[..Math.Min(200, text.Length)]}");
            }
            else if (TakesABody(endpoint))
                problems.Add($"{endpoint}: {status} instead of refusing the oversize body: {text[..Math.Min(200, text.Length)]}");
        }
        output.WriteLine($"Oversize bodies: {endpoints.Count} endpoints that take a body, {problems.Count} answered badly.");
        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    /// <summary>Endpoints that ignore any body (a cancel, a secret rotation) may answer as usual.</summary>
    private static bool TakesABody(MappedEndpoints.ApiEndpoint endpoint) =>
        !endpoint.Pattern.EndsWith("/cancel", StringComparison.Ordinal) && !endpoint.Pattern.EndsWith("/rotate-secret", StringComparison.Ordinal);

    /// <summary>
    /// Declares a body one byte over the limit and, as a careful client does (Expect: 100-continue), waits for
    /// the answer before sending it: the server must refuse by the declared length. Raw HTTP/1.1, because
    /// HttpClient sends the body anyway after a 2xx (Banana answers its errors with 200) and then fails on the closed socket.
    /// </summary>
    private static async Task<(int Status, string? MediaType, string Body)> SendHeadOfOversizeBodyAsync(Uri server, MappedEndpoints.ApiEndpoint endpoint, string key)
    {
        using var tcp = new System.Net.Sockets.TcpClient();
        await tcp.ConnectAsync(server.Host, server.Port);
        await using var stream = tcp.GetStream();
        var head = $"{endpoint.Method} {endpoint.Path} HTTP/1.1\r\nHost: {server.Authority}\r\nAuthorization: Bearer {key}\r\n" +
                   $"Content-Type: application/json\r\nContent-Length: {RequestBodies.MaxBytes + 1}\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(head));
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        using var received = new MemoryStream();
        await stream.CopyToAsync(received, timeout.Token);
        var bytes = received.ToArray();
        var split = bytes.AsSpan().IndexOf("\r\n\r\n"u8);
        if (split < 0) return (0, null, Encoding.UTF8.GetString(bytes));
        var headers = Encoding.ASCII.GetString(bytes, 0, split).Split("\r\n");
        var status = int.Parse(headers[0].Split(' ')[1]);
        string? Header(string name) => headers.Skip(1).Select(h => h.Split(':', 2)).Where(h => h[0].Equals(name, StringComparison.OrdinalIgnoreCase))
            .Select(h => h[1].Trim()).FirstOrDefault();
        var body = bytes.AsSpan(split + 4);
        var decoded = new MemoryStream();
        if (Header("Transfer-Encoding")?.Contains("chunked") != true) decoded.Write(body);
        else
            while (body.Length > 0)
            {
                var lineEnd = body.IndexOf("\r\n"u8);
                var size = Convert.ToInt32(Encoding.ASCII.GetString(body[..lineEnd]), 16);
                if (size == 0) break;
                decoded.Write(body.Slice(lineEnd + 2, size));
                body = body[(lineEnd + 2 + size + 2)..];
            }
        var text = Encoding.UTF8.GetString(decoded.ToArray());
        return (status, Header("Content-Type")?.Split(';')[0].Trim(), text);
    }

    private async Task<string> StartWithUserAsync()
    {
        app.StartServer();
        var user = await app.Services.GetRequiredService<BananaLab.Core.Users.UserService>()
            .CreateAsync($"{Guid.NewGuid():N}@example.test", "Big bodies", BananaLab.Core.Users.UserRole.User);
        return (await app.Services.GetRequiredService<BananaLab.Core.Users.ApiKeyService>().CreateAsync(user.Id, "limits")).Secret;
    }

    /// <summary>A JSON object of exactly <paramref name="size"/> bytes that no endpoint can act on.</summary>
    private static ByteArrayContent Padded(int size)
    {
        var bytes = new byte[size];
        Array.Fill(bytes, (byte)'x');
        "{\"pad\":\""u8.CopyTo(bytes);
        "\"}"u8.CopyTo(bytes.AsSpan(size - 2));
        var content = new ByteArrayContent(bytes);
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        return content;
    }
}
