using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace BananaLab.Core.Health;

/// <summary>
/// Runs a host until it stops, turning a setting that stops start-up (an <see cref="OptionsValidationException"/>) into
/// one line on standard error and exit code 1, instead of an unhandled exception and an abort.
/// </summary>
public static class StartupFailures
{
    /// <returns>0 after a normal stop, 1 when a setting stopped start-up.</returns>
    public static async Task<int> RunUntilStoppedAsync(this IHost host)
    {
        try
        {
            await host.RunAsync();
            return 0;
        }
        catch (OptionsValidationException e)
        {
            await Console.Error.WriteLineAsync($"BananaLab did not start: {string.Join(" ", e.Failures)}");
            return 1;
        }
    }
}
