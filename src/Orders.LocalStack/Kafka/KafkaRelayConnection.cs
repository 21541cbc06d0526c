using System.Buffers;
using System.Buffers.Binary;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Orders.LocalStack.Kafka.Protocol;

namespace Orders.LocalStack.Kafka;

/// <summary>Answers a complete request frame (size prefix included) with a complete response frame.</summary>
internal interface ILocalRequestHandler
{
    /// <exception cref="KafkaProtocolException">The frame is not a valid request of its API and version.</exception>
    Task<byte[]> HandleAsync(ReadOnlyMemory<byte> frame, CancellationToken cancellationToken);
}

/// <summary>What a protocol-aware relay needs: which APIs go where, and who answers the local ones.</summary>
internal sealed record RelayProtocol(ApiSupport Apis, ILocalRequestHandler LocalRequests, ILogger Logger);

/// <summary>
/// One client connection through a protocol-aware relay. Requests are split into frames by their
/// size prefix; only headers are read, and bytes are passed on from the receive buffer without
/// copying, except: requests the relay serves itself (admin APIs the mock lacks) are answered here,
/// ApiVersions responses are rewritten to advertise them, and while a topic has a
/// <c>max.message.bytes</c>, produce requests are read whole and batches above it refused
/// (<see cref="ProduceSizes"/>). Kafka clients expect responses in
/// request order, so a locally served response waits until every earlier forwarded request has
/// been answered. A frame no broker here understands closes this connection only.
/// </summary>
internal sealed class KafkaRelayConnection
{
    private const int BufferSize = 64 * 1024;

    /// <summary>Bytes added at a time to a frame prefix that straddles receive buffers, until it can be routed.</summary>
    private const int PrefixStep = 512;

    /// <summary>Size and correlation id: all the relay reads of a response it does not rewrite.</summary>
    private const int ResponseHeaderLength = 8;

    private readonly Socket _client;
    private readonly Socket _upstream;
    private readonly RelayProtocol _protocol;
    private readonly CancellationToken _stopping;

    // Responses are written to the client by the response pump (forwarded ones) and by the request
    // pump (local ones); this lock orders them and keeps a local response out of a forwarded frame.
    private readonly SemaphoreSlim _clientWrite = new(1, 1);
    private readonly Lock _pendingLock = new();
    private readonly List<Pending> _pending = [];
    private bool _responseMidFrame;

    // Local responses queued and not yet written; read without the lock on the response path's hot loop.
    private int _localWaiting;

    public KafkaRelayConnection(Socket client, Socket upstream, RelayProtocol protocol, CancellationToken stopping)
    {
        _client = client;
        _upstream = upstream;
        _protocol = protocol;
        _stopping = stopping;
    }

    /// <summary>A request awaiting its response: forwarded (response from the mock) or served here (response ready).</summary>
    private sealed class Pending(int correlationId, short apiKey, short apiVersion, byte[]? localResponse)
    {
        public int CorrelationId { get; } = correlationId;
        public short ApiKey { get; } = apiKey;
        public short ApiVersion { get; } = apiVersion;
        public byte[]? LocalResponse { get; } = localResponse;

        /// <summary>Partitions of a forwarded produce request that the relay refused: added to the mock's response.</summary>
        public IReadOnlyList<RefusedPartition>? Refused { get; init; }

        /// <summary>Whether the mock's response is held whole and rewritten before the client sees it.</summary>
        public bool Rewritten => ApiKey == (short)KafkaApiKey.ApiVersions || Refused is not null;
    }

    /// <returns>True when the client closed cleanly (its FIN is passed on), false on an error or a rejected frame.</returns>
    public async Task<bool> PumpRequestsAsync()
    {
        var buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
        var prefix = new FrameBuffer();
        var passRemaining = 0;
        try
        {
            while (true)
            {
                var read = await _client.ReceiveAsync(buffer.AsMemory(0, BufferSize), SocketFlags.None, _stopping);
                if (read == 0)
                {
                    _upstream.Shutdown(SocketShutdown.Send);
                    return true;
                }

                var pos = 0;
                var passStart = 0;
                while (pos < read)
                {
                    if (passRemaining > 0)
                    {
                        var take = Math.Min(passRemaining, read - pos);
                        pos += take;
                        passRemaining -= take;
                        continue;
                    }

                    RequestRoute route;
                    RequestInfo request;
                    if (prefix.Length == 0)
                    {
                        route = _protocol.Apis.Route(buffer.AsSpan(pos, read - pos), out request);
                        switch (route)
                        {
                            case RequestRoute.Forward or RequestRoute.ForwardWithoutResponse:
                                Track(route, request);
                                passRemaining = request.FrameLength;
                                continue;
                            case RequestRoute.Serve or RequestRoute.Inspect when request.FrameLength <= read - pos:
                                await SendAsync(_upstream, buffer.AsMemory(passStart, pos - passStart));
                                await HandleWholeAsync(route, request, buffer.AsMemory(pos, request.FrameLength));
                                pos += request.FrameLength;
                                passStart = pos;
                                continue;
                            case RequestRoute.Reject:
                                await SendAsync(_upstream, buffer.AsMemory(passStart, pos - passStart));
                                Reject(request);
                                return false;
                        }

                        // The frame's start is here but not enough of it: keep what arrived, wait for more.
                        await SendAsync(_upstream, buffer.AsMemory(passStart, pos - passStart));
                        prefix.Append(buffer.AsSpan(pos, read - pos));
                        pos = read;
                        passStart = read;
                        continue;
                    }

                    // Continuing a frame whose start arrived earlier.
                    route = _protocol.Apis.Route(prefix.Span, out request);
                    var want = route is RequestRoute.Serve or RequestRoute.Inspect ? request.FrameLength - prefix.Length : PrefixStep;
                    if (route is RequestRoute.NeedMore or RequestRoute.Serve or RequestRoute.Inspect && want > 0)
                    {
                        var take = Math.Min(want, read - pos);
                        prefix.Append(buffer.AsSpan(pos, take));
                        pos += take;
                        passStart = pos;
                        route = _protocol.Apis.Route(prefix.Span, out request);
                    }

                    switch (route)
                    {
                        case RequestRoute.Forward or RequestRoute.ForwardWithoutResponse:
                            Track(route, request);
                            // A frame shorter than one step may end inside the prefix, with the next one behind it.
                            var inPrefix = Math.Min(prefix.Length, request.FrameLength);
                            await SendAsync(_upstream, prefix.Memory[..inPrefix]);
                            passRemaining = request.FrameLength - inPrefix;
                            prefix.Consume(inPrefix);
                            break;
                        case RequestRoute.Serve or RequestRoute.Inspect when prefix.Length >= request.FrameLength:
                            await HandleWholeAsync(route, request, prefix.Memory[..request.FrameLength]);
                            prefix.Consume(request.FrameLength);
                            break;
                        case RequestRoute.Reject:
                            Reject(request);
                            return false;
                    }
                }

                // Bytes of a frame left in the prefix after a split are routed with the next receive.
                await DrainPrefixAsync(prefix);
                await SendAsync(_upstream, buffer.AsMemory(passStart, pos - passStart));
            }
        }
        catch (KafkaProtocolException e)
        {
            LocalStackLog.ConnectionClosed(_protocol.Logger, _client.RemoteEndPoint?.ToString(), e.Message);
            return false;
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException or ObjectDisposedException)
        {
            return false;
        }
        catch (Exception e)
        {
            // A local answer failed unexpectedly (the mock gone, say): close this connection, visibly.
            LocalStackLog.ConnectionFailed(_protocol.Logger, _client.RemoteEndPoint?.ToString(), e);
            return false;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
            prefix.Dispose();
        }
    }

    /// <summary>Routes whole frames that a split left behind in the prefix buffer (rare: small frames behind a split one).</summary>
    private async Task DrainPrefixAsync(FrameBuffer prefix)
    {
        while (prefix.Length > 0)
        {
            var route = _protocol.Apis.Route(prefix.Span, out var request);
            switch (route)
            {
                case RequestRoute.Forward or RequestRoute.ForwardWithoutResponse when prefix.Length >= request.FrameLength:
                    Track(route, request);
                    await SendAsync(_upstream, prefix.Memory[..request.FrameLength]);
                    prefix.Consume(request.FrameLength);
                    break;
                case RequestRoute.Serve or RequestRoute.Inspect when prefix.Length >= request.FrameLength:
                    await HandleWholeAsync(route, request, prefix.Memory[..request.FrameLength]);
                    prefix.Consume(request.FrameLength);
                    break;
                case RequestRoute.Reject:
                    throw new KafkaProtocolException(request.RejectReason ?? "a malformed request");
                default:
                    return;
            }
        }
    }

    private void Track(RequestRoute route, RequestInfo request)
    {
        if (route == RequestRoute.ForwardWithoutResponse)
        {
            return;
        }

        lock (_pendingLock)
        {
            _pending.Add(new Pending(request.CorrelationId, request.ApiKey, request.ApiVersion, null));
        }
    }

    private void Reject(RequestInfo request)
    {
        LocalStackLog.ConnectionClosed(_protocol.Logger, _client.RemoteEndPoint?.ToString(), request.RejectReason ?? "a malformed request");
        // Kafka closes a connection that sends what it cannot parse; so does the relay, this one only.
        _client.Close();
        _upstream.Close();
    }

    /// <summary>A whole frame the relay reads before it decides: a request it serves, or a produce request it checks.</summary>
    private Task HandleWholeAsync(RequestRoute route, RequestInfo request, ReadOnlyMemory<byte> frame) =>
        route == RequestRoute.Serve ? ServeAsync(frame) : InspectAsync(request, frame);

    /// <summary>
    /// A produce request whose record batches are checked against their topics' <c>max.message.bytes</c>:
    /// what fits goes on to the mock (the frame itself when everything does), what does not is answered
    /// MESSAGE_TOO_LARGE, in the mock's response or, when nothing is left to forward, here.
    /// </summary>
    private async Task InspectAsync(RequestInfo request, ReadOnlyMemory<byte> frame)
    {
        var split = ProduceSizes.Split(frame, _protocol.Apis.ProduceLimits!);
        foreach (var refused in split.Refused)
        {
            LocalStackLog.BatchTooLarge(_protocol.Logger, refused.Topic, refused.Partition, refused.Message);
        }

        if (split.Forward is { } forward)
        {
            if (!split.NoResponse)
            {
                lock (_pendingLock)
                {
                    _pending.Add(new Pending(request.CorrelationId, request.ApiKey, request.ApiVersion, null)
                    {
                        Refused = split.Refused.Count > 0 ? split.Refused : null,
                    });
                }
            }

            await SendAsync(_upstream, forward);
        }
        else if (!split.NoResponse)
        {
            await QueueLocalResponseAsync(request.CorrelationId, request.ApiKey, request.ApiVersion,
                ProduceSizes.Response(request.CorrelationId, request.ApiVersion, split.Refused));
        }
    }

    private async Task ServeAsync(ReadOnlyMemory<byte> frame)
    {
        var correlationId = BinaryPrimitives.ReadInt32BigEndian(frame.Span[8..]);
        var apiKey = BinaryPrimitives.ReadInt16BigEndian(frame.Span[4..]);
        var apiVersion = BinaryPrimitives.ReadInt16BigEndian(frame.Span[6..]);
        var response = await _protocol.LocalRequests.HandleAsync(frame, _stopping);
        await QueueLocalResponseAsync(correlationId, apiKey, apiVersion, response);
    }

    /// <summary>Queues a response made here, and writes it at once if every earlier request has been answered.</summary>
    private async Task QueueLocalResponseAsync(int correlationId, short apiKey, short apiVersion, byte[] response)
    {
        lock (_pendingLock)
        {
            _pending.Add(new Pending(correlationId, apiKey, apiVersion, response));
            _localWaiting++;
        }

        await _clientWrite.WaitAsync(_stopping);
        try
        {
            if (!_responseMidFrame)
            {
                await WriteReadyLocalResponsesAsync();
            }
        }
        finally
        {
            _clientWrite.Release();
        }
    }

    /// <summary>Writes local responses at the head of the line: every request before them has been answered.</summary>
    /// <remarks>Caller holds <see cref="_clientWrite"/> at a response frame boundary.</remarks>
    private async Task WriteReadyLocalResponsesAsync()
    {
        while (true)
        {
            byte[]? response;
            lock (_pendingLock)
            {
                if (_pending.Count == 0 || _pending[0].LocalResponse is null)
                {
                    return;
                }

                response = _pending[0].LocalResponse;
                _pending.RemoveAt(0);
                _localWaiting--;
            }

            await SendAsync(_client, response);
        }
    }

    /// <returns>True when the mock closed cleanly (its FIN is passed on), false on an error.</returns>
    public async Task<bool> PumpResponsesAsync()
    {
        var buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
        var held = new FrameBuffer();
        var passRemaining = 0;
        Pending? heldFor = null;
        var heldTarget = 0;
        try
        {
            while (true)
            {
                var read = await _upstream.ReceiveAsync(buffer.AsMemory(0, BufferSize), SocketFlags.None, _stopping);
                if (read == 0)
                {
                    _client.Shutdown(SocketShutdown.Send);
                    return true;
                }

                await _clientWrite.WaitAsync(_stopping);
                try
                {
                    var pos = 0;
                    var passStart = 0;
                    while (pos < read)
                    {
                        if (passRemaining > 0)
                        {
                            var take = Math.Min(passRemaining, read - pos);
                            pos += take;
                            passRemaining -= take;
                            if (passRemaining == 0)
                            {
                                _responseMidFrame = false;
                                if (Volatile.Read(ref _localWaiting) > 0)
                                {
                                    // A local response may be next in line: this frame goes out first, whole.
                                    await SendAsync(_client, buffer.AsMemory(passStart, pos - passStart));
                                    passStart = pos;
                                    await WriteReadyLocalResponsesAsync();
                                }
                            }

                            continue;
                        }

                        // A frame starts. Most pass through as they arrive; two kinds are held: a header split
                        // across receives (until its 8 bytes are here) and a response to rewrite (whole): ApiVersions,
                        // and a produce response missing the partitions the relay refused.
                        _responseMidFrame = true;
                        if (held.Length == 0)
                        {
                            heldTarget = ResponseHeaderLength;
                            if (read - pos >= ResponseHeaderLength)
                            {
                                var (frameLength, request) = Match(buffer.AsSpan(pos, ResponseHeaderLength));
                                if (request?.Rewritten != true)
                                {
                                    passRemaining = frameLength;
                                    continue;
                                }

                                (heldFor, heldTarget) = (request, frameLength);
                            }

                            // Earlier frames of this receive go out before the held bytes.
                            await SendAsync(_client, buffer.AsMemory(passStart, pos - passStart));
                        }

                        var collect = Math.Min(heldTarget - held.Length, read - pos);
                        held.Append(buffer.AsSpan(pos, collect));
                        pos += collect;
                        passStart = pos;
                        if (held.Length < heldTarget)
                        {
                            continue;
                        }

                        if (heldFor is not null)
                        {
                            await SendAsync(_client, Rewrite(heldFor, held.Span));
                            held.Consume(held.Length);
                            heldFor = null;
                            await EndResponseFrameAsync();
                            continue;
                        }

                        var (length, matched) = Match(held.Span);
                        if (matched?.Rewritten == true)
                        {
                            (heldFor, heldTarget) = (matched, length);
                            continue;
                        }

                        await SendAsync(_client, held.Memory);
                        passRemaining = length - held.Length;
                        held.Consume(held.Length);
                        if (passRemaining == 0)
                        {
                            await EndResponseFrameAsync();
                        }
                    }

                    await SendAsync(_client, buffer.AsMemory(passStart, pos - passStart));
                }
                finally
                {
                    _clientWrite.Release();
                }
            }
        }
        catch (KafkaProtocolException e)
        {
            LocalStackLog.ConnectionClosed(_protocol.Logger, _client.RemoteEndPoint?.ToString(), $"the mock sent {e.Message}");
            return false;
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException or ObjectDisposedException)
        {
            return false;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
            held.Dispose();
        }
    }

    /// <exception cref="KafkaProtocolException">A produce response not of its request's version.</exception>
    private byte[] Rewrite(Pending request, ReadOnlySpan<byte> response) =>
        request.Refused is { } refused
            ? ProduceSizes.AddRefused(response, request.ApiVersion, refused)
            : _protocol.Apis.RewriteApiVersions(response, request.ApiVersion) ?? response.ToArray();

    /// <summary>A response frame was written whole: local responses queued behind it may follow.</summary>
    private async Task EndResponseFrameAsync()
    {
        _responseMidFrame = false;
        await WriteReadyLocalResponsesAsync();
    }

    private static int FrameLength(ReadOnlySpan<byte> frame)
    {
        var size = BinaryPrimitives.ReadInt32BigEndian(frame);
        return size is >= 4 and <= ApiSupport.MaxFrameSize ? size + 4 : throw new KafkaProtocolException($"a response frame of {size} bytes");
    }

    /// <summary>Finds (and removes) the request a response answers; the mock answers in order, except for held requests such as JoinGroup.</summary>
    private (int FrameLength, Pending? Request) Match(ReadOnlySpan<byte> header)
    {
        var length = FrameLength(header);
        var correlationId = BinaryPrimitives.ReadInt32BigEndian(header[4..]);
        lock (_pendingLock)
        {
            for (var i = 0; i < _pending.Count; i++)
            {
                if (_pending[i].CorrelationId == correlationId && _pending[i].LocalResponse is null)
                {
                    var request = _pending[i];
                    _pending.RemoveAt(i);
                    return (length, request);
                }
            }
        }

        return (length, null);
    }

    private async Task SendAsync(Socket socket, ReadOnlyMemory<byte> bytes)
    {
        while (bytes.Length > 0)
        {
            var sent = await socket.SendAsync(bytes, SocketFlags.None, _stopping);
            bytes = bytes[sent..];
        }
    }
}

/// <summary>A pooled, growable byte buffer for the parts of frames the relay must hold.</summary>
internal sealed class FrameBuffer : IDisposable
{
    private byte[] _bytes = [];

    public int Length { get; private set; }

    public ReadOnlySpan<byte> Span => _bytes.AsSpan(0, Length);

    public ReadOnlyMemory<byte> Memory => _bytes.AsMemory(0, Length);

    public void Append(ReadOnlySpan<byte> bytes)
    {
        if (Length + bytes.Length > _bytes.Length)
        {
            var bigger = ArrayPool<byte>.Shared.Rent(Math.Max(Length + bytes.Length, 1024));
            _bytes.AsSpan(0, Length).CopyTo(bigger);
            Return();
            _bytes = bigger;
        }

        bytes.CopyTo(_bytes.AsSpan(Length));
        Length += bytes.Length;
    }

    /// <summary>Drops the first <paramref name="count"/> bytes.</summary>
    public void Consume(int count)
    {
        _bytes.AsSpan(count, Length - count).CopyTo(_bytes);
        Length -= count;
    }

    public void Dispose()
    {
        Return();
        _bytes = [];
        Length = 0;
    }

    private void Return()
    {
        if (_bytes.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(_bytes);
        }
    }
}
