// recap-audiotap: records what this Mac plays, through a Core Audio process tap (macOS 14.4+),
// and streams it to Recap on stdout. Built by packaging/macos/audiotap/build.sh; shipped in
// Recap.app/Contents/MacOS/ beside the app, whose Info.plist carries
// NSAudioCaptureUsageDescription (the system asks the user once; without permission the tap
// delivers zeros, which Recap detects).
//
// stdout: packets of a 16-byte header, little-endian: "RTAP", UInt32 sample rate,
//         UInt32 channels, UInt32 byte count; then that many bytes of interleaved Float32.
//         The format travels with every packet, so a format change (AirPods entering call mode
//         drop to 24 kHz) needs no separate message.
// stderr: one JSON object per line: {"event": "started"|"output_running"|"rebuilt"|"error", ...}
// It exits when stdin closes (Recap quit or died) or on SIGTERM.
//
// Usage: recap-audiotap [--exclude-pid PID]

import AudioToolbox
import CoreAudio
import Foundation

let out = FileHandle.standardOutput
let writeQueue = DispatchQueue(label: "recap.audiotap.write")

func event(_ fields: [String: Any]) {
    if let data = try? JSONSerialization.data(withJSONObject: fields),
       var line = String(data: data, encoding: .utf8) {
        line += "\n"
        FileHandle.standardError.write(line.data(using: .utf8)!)
    }
}

func fail(_ message: String, _ status: OSStatus) -> Never {
    event(["event": "error", "message": message, "status": Int(status)])
    exit(1)
}

func property<T>(_ object: AudioObjectID, _ selector: AudioObjectPropertySelector,
                 scope: AudioObjectPropertyScope = kAudioObjectPropertyScopeGlobal,
                 _ initial: T) -> (T, OSStatus) {
    var address = AudioObjectPropertyAddress(mSelector: selector, mScope: scope,
                                             mElement: kAudioObjectPropertyElementMain)
    var value = initial
    var size = UInt32(MemoryLayout<T>.size)
    let status = AudioObjectGetPropertyData(object, &address, 0, nil, &size, &value)
    return (value, status)
}

func defaultOutputDevice() -> AudioObjectID {
    property(AudioObjectID(kAudioObjectSystemObject),
             kAudioHardwarePropertyDefaultOutputDevice, AudioObjectID(0)).0
}

func deviceUID(_ device: AudioObjectID) -> String? {
    let (uid, status) = property(device, kAudioDevicePropertyDeviceUID, "" as CFString)
    return status == noErr ? uid as String : nil
}

func processObject(pid: pid_t) -> AudioObjectID? {
    var address = AudioObjectPropertyAddress(
        mSelector: kAudioHardwarePropertyTranslatePIDToProcessObject,
        mScope: kAudioObjectPropertyScopeGlobal, mElement: kAudioObjectPropertyElementMain)
    var pidValue = pid
    var object = AudioObjectID(0)
    var size = UInt32(MemoryLayout<AudioObjectID>.size)
    let status = AudioObjectGetPropertyData(AudioObjectID(kAudioObjectSystemObject), &address,
                                            UInt32(MemoryLayout<pid_t>.size), &pidValue,
                                            &size, &object)
    return status == noErr && object != 0 ? object : nil
}

/// One tap + private aggregate device + IO proc; rebuilt when the output or its format changes.
final class Tap {
    var tapID = AudioObjectID(0)
    var aggregateID = AudioObjectID(0)
    var procID: AudioDeviceIOProcID?
    var format = AudioStreamBasicDescription()
    let excluded: [AudioObjectID]

    init(excluding: [AudioObjectID]) { excluded = excluding }

    func start() {
        let description = CATapDescription(stereoGlobalTapButExcludeProcesses: excluded)
        description.uuid = UUID()
        description.muteBehavior = .unmuted
        description.isPrivate = true
        var status = AudioHardwareCreateProcessTap(description, &tapID)
        if status != noErr { fail("could not create the process tap", status) }
        (format, status) = property(tapID, kAudioTapPropertyFormat,
                                    AudioStreamBasicDescription())
        if status != noErr { fail("could not read the tap's format", status) }
        guard let outputUID = deviceUID(defaultOutputDevice()) else {
            fail("there is no default output device", -1)
        }
        let aggregate: [String: Any] = [
            kAudioAggregateDeviceNameKey: "Recap system audio",
            kAudioAggregateDeviceUIDKey: UUID().uuidString,
            kAudioAggregateDeviceMainSubDeviceKey: outputUID,
            kAudioAggregateDeviceIsPrivateKey: true,
            kAudioAggregateDeviceIsStackedKey: false,
            kAudioAggregateDeviceTapAutoStartKey: true,
            kAudioAggregateDeviceSubDeviceListKey: [[kAudioSubDeviceUIDKey: outputUID]],
            kAudioAggregateDeviceTapListKey: [[kAudioSubTapDriftCompensationKey: true,
                                              kAudioSubTapUIDKey: description.uuid.uuidString]],
        ]
        status = AudioHardwareCreateAggregateDevice(aggregate as CFDictionary, &aggregateID)
        if status != noErr { fail("could not create the aggregate device", status) }
        let rate = UInt32(format.mSampleRate)
        let channels = format.mChannelsPerFrame
        let interleaved = format.mFormatFlags & kAudioFormatFlagIsNonInterleaved == 0
        status = AudioDeviceCreateIOProcIDWithBlock(&procID, aggregateID, nil) {
            _, input, _, _, _ in
            let buffers = UnsafeMutableAudioBufferListPointer(
                UnsafeMutablePointer(mutating: input))
            var data = Data()
            if interleaved || buffers.count == 1 {
                if let mData = buffers[0].mData {
                    data.append(Data(bytes: mData, count: Int(buffers[0].mDataByteSize)))
                }
            } else {  // planar: interleave the planes
                let frames = Int(buffers[0].mDataByteSize) / 4
                var samples = [Float32](repeating: 0, count: frames * buffers.count)
                for (c, buffer) in buffers.enumerated() {
                    guard let plane = buffer.mData?.assumingMemoryBound(to: Float32.self)
                    else { continue }
                    for i in 0..<frames { samples[i * buffers.count + c] = plane[i] }
                }
                samples.withUnsafeBytes { data.append(contentsOf: $0) }
            }
            let packetChannels = interleaved ? channels : UInt32(buffers.count)
            var header = Data("RTAP".utf8)
            for value in [rate, packetChannels, UInt32(data.count)] {
                withUnsafeBytes(of: value.littleEndian) { header.append(contentsOf: $0) }
            }
            writeQueue.async { out.write(header + data) }
        }
        if status != noErr { fail("could not create the IO proc", status) }
        status = AudioDeviceStart(aggregateID, procID)
        if status != noErr { fail("could not start the aggregate device", status) }
        event(["event": "started", "rate": Int(rate), "channels": Int(channels)])
    }

    func stop() {
        if let procID = procID {
            AudioDeviceStop(aggregateID, procID)
            AudioDeviceDestroyIOProcID(aggregateID, procID)
        }
        if aggregateID != 0 { AudioHardwareDestroyAggregateDevice(aggregateID) }
        if tapID != 0 { AudioHardwareDestroyProcessTap(tapID) }
        procID = nil
        aggregateID = 0
        tapID = 0
    }
}

var excludePID: pid_t = getppid()  // Recap itself: never record our own sounds
var arguments = CommandLine.arguments.dropFirst()
while let argument = arguments.popFirst() {
    if argument == "--exclude-pid", let value = arguments.popFirst(), let pid = pid_t(value) {
        excludePID = pid
    }
}
let excluded = processObject(pid: excludePID).map { [$0] } ?? []
let tap = Tap(excluding: excluded)
tap.start()

let main = DispatchQueue.main
func rebuild(_ why: String) {
    main.async {
        tap.stop()
        tap.start()
        event(["event": "rebuilt", "why": why])
    }
}

// The default output changed (headphones plugged, AirPods connected): follow it.
var defaultAddress = AudioObjectPropertyAddress(
    mSelector: kAudioHardwarePropertyDefaultOutputDevice,
    mScope: kAudioObjectPropertyScopeGlobal, mElement: kAudioObjectPropertyElementMain)
AudioObjectAddPropertyListenerBlock(AudioObjectID(kAudioObjectSystemObject), &defaultAddress,
                                    main) { _, _ in rebuild("default output changed") }

// The output's rate changed (AirPods call mode): the tap keeps reporting the old format.
var lastRate = property(defaultOutputDevice(), kAudioDevicePropertyNominalSampleRate,
                        Float64(0)).0
// Whether anything plays, so Recap can tell "nothing playing" from "no permission" (zeros).
Timer.scheduledTimer(withTimeInterval: 0.5, repeats: true) { _ in
    let device = defaultOutputDevice()
    let running = property(device, kAudioDevicePropertyDeviceIsRunningSomewhere, UInt32(0)).0
    event(["event": "output_running", "value": running != 0])
    let rate = property(device, kAudioDevicePropertyNominalSampleRate, Float64(0)).0
    if rate != lastRate && rate > 0 {
        lastRate = rate
        rebuild("output rate changed to \(Int(rate)) Hz")
    }
}

// Recap closes our stdin when it stops, or dies: either way, stop.
DispatchQueue.global().async {
    while FileHandle.standardInput.availableData.count > 0 {}
    main.async { tap.stop(); exit(0) }
}
signal(SIGTERM) { _ in tap.stop(); exit(0) }

RunLoop.main.run()
