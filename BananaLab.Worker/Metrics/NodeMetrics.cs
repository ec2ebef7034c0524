using BananaLab.Core.Cluster;
using Microsoft.Extensions.Options;
using Prometheus;

namespace BananaLab.Worker.Metrics;

/// <summary>
/// This process's Prometheus registry, its own rather than prometheus-net's global one (several hosts
/// share a process in the tests). Every series carries the node's name (<c>Cluster:NodeName</c>) as
/// the label <c>node</c>. A web node serves it at <c>/metrics</c>; a worker process on
/// <c>Worker:MetricsPort</c>.
/// </summary>
public sealed class NodeMetrics
{
    public NodeMetrics(IOptions<ClusterOptions> cluster)
    {
        Registry.SetStaticLabels(new Dictionary<string, string> { ["node"] = cluster.Value.NodeName });
        Factory = Prometheus.Metrics.WithCustomRegistry(Registry);
    }

    public CollectorRegistry Registry { get; } = Prometheus.Metrics.NewCustomRegistry();

    public IMetricFactory Factory { get; }
}
