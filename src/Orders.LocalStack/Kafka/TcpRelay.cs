using System.Buffers;
using System.Net;
using System.Net.Sockets;
using Orders.SchemaRegistry;

namespace Orders.LocalStack.Kafka;

/// <summary>
/// Forwards TCP connections from a fixed local port to a mock broker's random one. The mock can
/// advertise any port in metadata but only listens on the one it picked, hence the relay. With a
/// <see cref="RelayProtocol"/> it reads the Kafka framing and serves what the mock lacks
/// (<see cref="KafkaRelayConnection"/>); without, it copies bytes.
/// </summary>
public sealed class TcpRelay : IAsyncDisposable
{
    private const int BufferSize = 64 * 1024;
    private static readonly TimeSpan HalfCloseGrace = TimeSpan.FromSeconds(5);

    private readonly List<Socket> _listeners;
    private readonly IPEndPoint _upstream;
    private readonly RelayProtocol? _protocol;
    private readonly CancellationTokenSource _stopping = new();
    private readonly List<Task> _acceptLoops = [];
    private readonly Lock _connectionsLock = new();
    private readonly HashSet<Socket> _connections = [];

    private TcpRelay(List<Socket> listeners, IPEndPoint upstream, RelayProtocol? protocol)
    {
        _listeners = listeners;
        _upstream = upstream;
        _protocol = protocol;
        Port = ((IPEndPoint)listeners[0].LocalEndPoint!).Port;
        foreach (var listener in listeners)
        {
            _acceptLoops.Add(AcceptLoopAsync(listener));
        }
    }

    public int Port { get; }

    /// <summary>
    /// Listens on 127.0.0.1 (and ::1 where the machine has IPv6, so that "localhost" works whichever
    /// address a client tries first). Port 0 picks a free port, IPv4 only.
    /// </summary>
    public static TcpRelay Start(int port, IPEndPoint upstream) => Start(port, upstream, null);

    internal static TcpRelay Start(int port, IPEndPoint upstream, RelayProtocol? protocol)
    {
        var listeners = new List<Socket> { Listen(IPAddress.Loopback, port) };
        if (port != 0 && Socket.OSSupportsIPv6)
        {
            try
            {
                listeners.Add(Listen(IPAddress.IPv6Loopback, port));
            }
            catch (SocketException e) when (e.SocketErrorCode is SocketError.AddressNotAvailable or SocketError.AddressFamilyNotSupported)
            {
                // No IPv6 loopback here: IPv4 alone serves every client.
            }
            catch (PortInUseException)
            {
                listeners[0].Dispose();
                throw;
            }
        }

        return new TcpRelay(listeners, upstream, protocol);
    }

    private static Socket Listen(IPAddress address, int port)
    {
        var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            if (address.AddressFamily == AddressFamily.InterNetworkV6)
            {
                socket.DualMode = false;
            }

            socket.Bind(new IPEndPoint(address, port));
            socket.Listen(512);
            return socket;
        }
        catch (SocketException e) when (e.SocketErrorCode is SocketError.AddressAlreadyInUse or SocketError.AccessDenied)
        {
            socket.Dispose();
            throw new PortInUseException(port, "kafka", e);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private async Task AcceptLoopAsync(Socket listener)
    {
        while (!_stopping.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await listener.AcceptAsync(_stopping.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                if (_stopping.IsCancellationRequested)
                {
                    return;
                }

                continue;
            }

            _ = RelayAsync(client);
        }
    }

    private async Task RelayAsync(Socket client)
    {
        var upstream = new Socket(_upstream.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        client.NoDelay = true;
        Track(client, upstream, add: true);
        try
        {
            await upstream.ConnectAsync(_upstream, _stopping.Token);
            Task<bool> toUpstream, toClient;
            if (_protocol is null)
            {
                toUpstream = PumpAsync(client, upstream);
                toClient = PumpAsync(upstream, client);
            }
            else
            {
                var connection = new KafkaRelayConnection(client, upstream, _protocol, _stopping.Token);
                toUpstream = connection.PumpRequestsAsync();
                toClient = connection.PumpResponsesAsync();
            }

            var first = await Task.WhenAny(toUpstream, toClient);
            if (await first)
            {
                // One side finished sending and its FIN was passed on. Let the other side answer
                // what it already received (a consumer's LeaveGroup, say) before closing: closing
                // at once, with data unread, would reset the connection and lose that request.
                var other = first == toUpstream ? toClient : toUpstream;
                await Task.WhenAny(other, Task.Delay(HalfCloseGrace, _stopping.Token));
            }
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException or ObjectDisposedException)
        {
            // The broker is down, or the relay is stopping: the client sees its connection close.
        }
        finally
        {
            Track(client, upstream, add: false);
            client.Dispose();
            upstream.Dispose();
        }
    }

    /// <returns>True when <paramref name="from"/> closed cleanly (its FIN is passed on), false on an error.</returns>
    private async Task<bool> PumpAsync(Socket from, Socket to)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
        try
        {
            while (true)
            {
                var read = await from.ReceiveAsync(buffer, SocketFlags.None, _stopping.Token);
                if (read == 0)
                {
                    to.Shutdown(SocketShutdown.Send);
                    return true;
                }

                var sent = 0;
                while (sent < read)
                {
                    sent += await to.SendAsync(buffer.AsMemory(sent, read - sent), SocketFlags.None, _stopping.Token);
                }
            }
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException or ObjectDisposedException)
        {
            return false;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private void Track(Socket a, Socket b, bool add)
    {
        lock (_connectionsLock)
        {
            if (add)
            {
                _connections.Add(a);
                _connections.Add(b);
            }
            else
            {
                _connections.Remove(a);
                _connections.Remove(b);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_stopping.IsCancellationRequested)
        {
            return;
        }

        await _stopping.CancelAsync();
        foreach (var listener in _listeners)
        {
            listener.Dispose();
        }

        lock (_connectionsLock)
        {
            foreach (var socket in _connections)
            {
                socket.Dispose();
            }
        }

        await Task.WhenAll(_acceptLoops);
        _stopping.Dispose();
    }
}
