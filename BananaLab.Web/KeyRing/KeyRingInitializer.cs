using System.Xml.Linq;
using BananaLab.Core.Data;
using BananaLab.Core.Storage;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.Extensions.Options;

namespace BananaLab.Web.KeyRing;

/// <summary>
/// Makes sure the shared key ring holds a key that is valid now before this node signs or reads anything.
/// The check and the creation run under <see cref="ClusterLock.KeyRing"/>, so of several nodes that start
/// at once exactly one creates the key and the others find it. Without the lock, two nodes that find an
/// empty ring each create a key. A node that loaded its ring before the other's key was stored then
/// refuses everything the other node signs until its ring is refreshed (hours later).
/// </summary>
public sealed class KeyRingInitializer(
    IKeyManager keys,
    IOptions<KeyManagementOptions> keyOptions,
    IDatabaseProvider database,
    IOptions<StorageOptions> storage,
    TimeProvider time,
    ILogger<KeyRingInitializer> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await using var held = await database.LockAsync(ClusterLock.KeyRing, cancellationToken);
        var ring = keys.GetAllKeys();
        if (ring.Count == 0) ring = ImportKeyFiles();
        var now = time.GetUtcNow();
        if (ring.Any(k => !k.IsRevoked && k.ActivationDate <= now && k.ExpirationDate > now))
        {
            logger.LogInformation("Using the shared data-protection key ring: {Count} key(s)", ring.Count);
            return;
        }
        var key = keys.CreateNewKey(activationDate: now, expirationDate: now + keyOptions.Value.NewKeyLifetime);
        logger.LogInformation("Created the shared data-protection key ring's key {KeyId}, valid until {Expiration:u}", key.KeyId, key.ExpirationDate);
    }

    /// <summary>
    /// Before the key ring moved into the database, each node kept it in <c>keys/</c> under the data
    /// directory. An install that upgrades brings those keys into the empty database ring once, so its
    /// users stay signed in and its links keep working.
    /// </summary>
    private IReadOnlyCollection<IKey> ImportKeyFiles()
    {
        var folder = new DirectoryInfo(Path.Combine(storage.Value.FullDataDirectory, "keys"));
        var files = folder.Exists ? folder.GetFiles("*.xml") : [];
        if (files.Length == 0) return [];
        var repository = keyOptions.Value.XmlRepository
            ?? throw new InvalidOperationException("The data-protection key repository is not configured.");
        foreach (var file in files.OrderBy(f => f.Name, StringComparer.Ordinal))
            repository.StoreElement(XElement.Load(file.FullName), Path.GetFileNameWithoutExtension(file.Name));
        logger.LogInformation("Moved {Count} data-protection keys from {Folder} into the database", files.Length, folder.FullName);
        return keys.GetAllKeys();
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
