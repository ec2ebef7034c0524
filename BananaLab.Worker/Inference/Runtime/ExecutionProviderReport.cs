using BananaLab.Worker.Metrics;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace BananaLab.Worker.Inference.Runtime;

/// <summary>
/// Says at start where inference runs: one log line ("Inference runs on CUDA: CUDA device 0", or "Inference runs
/// on the CPU: CUDA could not load: missing libcudart.so.13 … (CUDA 13), libcudnn.so.9 (cuDNN 9)") and the
/// gauge <c>bananalab_inference_execution_provider{provider="cuda"|"cpu"} 1</c> on <c>/metrics</c>.
/// </summary>
public sealed class ExecutionProviderReport(OnnxSessionFactory sessions, NodeMetrics metrics, ILogger<ExecutionProviderReport> logger)
    : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        var choice = sessions.ExecutionProvider;
        if (choice.UsesCuda) logger.LogInformation("Inference runs on CUDA: {Detail}", choice.Detail);
        else logger.LogInformation("Inference runs on the CPU: {Detail}", choice.Detail);
        metrics.Factory.CreateGauge("bananalab_inference_execution_provider",
                "Where this node's ONNX Runtime sessions run (1 on the provider in use): cuda or cpu.", ["provider"])
            .WithLabels(choice.Label).Set(1);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
