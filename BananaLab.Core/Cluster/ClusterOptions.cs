using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Configuration;

namespace BananaLab.Core.Cluster;

/// <summary>
/// How this process takes part in a cluster: its node name (a label in logs and metrics) and the Redis
/// server it shares with the other nodes (<c>ConnectionStrings:Redis</c>). Without Redis, one process
/// does everything in memory, as on a single machine.
/// </summary>
public sealed class ClusterOptions
{
    public const string Section = "Cluster";
    public const string RedisConnectionStringName = "Redis";

    /// <summary>Names this process in metrics and logs; give each node of a cluster its own.</summary>
    [Required(ErrorMessage = "Cluster:NodeName is required.")]
    [RegularExpression("^[A-Za-z0-9._:-]{1,100}$", ErrorMessage = "Cluster:NodeName may only use letters, digits and . _ : - (at most 100).")]
    public string NodeName { get; set; } = Environment.MachineName;

    /// <summary>Prefixes every Redis key and channel, so several installs can share one Redis.</summary>
    [Required(ErrorMessage = "Cluster:RedisPrefix is required.")]
    [RegularExpression("^[A-Za-z0-9._:-]{1,50}$", ErrorMessage = "Cluster:RedisPrefix may only use letters, digits and . _ : - (at most 50).")]
    public string RedisPrefix { get; set; } = "bananalab";

    /// <summary>The Redis key or channel <paramref name="name"/> of this install: <c>{RedisPrefix}:{name}</c>.</summary>
    public string RedisKey(string name) => $"{RedisPrefix}:{name}";

    /// <summary>Whether a Redis server is configured (the cluster's shared state and event bus).</summary>
    public static bool UsesRedis(IConfiguration configuration) =>
        !string.IsNullOrWhiteSpace(configuration.GetConnectionString(RedisConnectionStringName));
}
