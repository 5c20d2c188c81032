// The 0.16+ Engine API (OgaEngineRun, event buffers, request and turn options), as ORT-GenAI 0.18.0 exports it.
// The header the addon compiles against (0.15.2's) does not declare it, so its signatures are spelled out here and
// the pointers are typed from this list instead of from the header's prototypes.
#pragma once

#include <cstddef>
#include <cstdint>

#include "ort_genai_c.h"

extern "C" {
typedef struct OgaEngineEvent OgaEngineEvent;
typedef struct OgaEngineEventBuffer OgaEngineEventBuffer;
typedef struct OgaRequestOptions OgaRequestOptions;
typedef struct OgaTurnOptions OgaTurnOptions;
}

namespace oga {

// Fixed-width constants of the 0.16+ API (stable ABI values).
namespace engine_event {
constexpr uint32_t kToken = 1u << 0;
constexpr uint32_t kTurnFinished = 1u << 1;
constexpr uint32_t kCapacityBlocked = 1u << 2;
constexpr uint32_t kFailed = 1u << 3;
constexpr uint32_t kRetryable = 1u << 4;
// OgaFinishReason: the turn sampled an end-of-sequence token.
constexpr uint32_t kFinishEos = 1;
// OgaErrorCode values that leave the engine unusable.
constexpr uint32_t kEngineContractFailure = 5;
constexpr uint32_t kEngineExecutionFailure = 6;
}  // namespace engine_event

}  // namespace oga

// X(name, return type, parameter list)
#define OGA_ENGINE_EVENT_FUNCTIONS(X)                                                                            \
  X(OgaEngineCreateRequest, OgaResult*, (OgaEngine*, const OgaRequestOptions*, OgaRequest**))                  \
  X(OgaRequestCreateTurnOptions, OgaResult*, (OgaRequest*, OgaTurnOptions**))                                   \
  X(OgaDestroyTurnOptions, void, (OgaTurnOptions*))                                                             \
  X(OgaTurnOptionsSetMaxGeneratedTokens, OgaResult*, (OgaTurnOptions*, uint64_t))                               \
  X(OgaTurnOptionsSetMinGeneratedTokens, OgaResult*, (OgaTurnOptions*, uint64_t))                               \
  X(OgaTurnOptionsSetDoSample, OgaResult*, (OgaTurnOptions*, bool))                                             \
  X(OgaTurnOptionsSetTemperature, OgaResult*, (OgaTurnOptions*, float))                                         \
  X(OgaTurnOptionsSetTopP, OgaResult*, (OgaTurnOptions*, float))                                                \
  X(OgaTurnOptionsSetTopK, OgaResult*, (OgaTurnOptions*, int32_t))                                              \
  X(OgaTurnOptionsSetRepetitionPenalty, OgaResult*, (OgaTurnOptions*, float))                                   \
  X(OgaTurnOptionsSetSeed, OgaResult*, (OgaTurnOptions*, uint64_t))                                             \
  X(OgaRequestBeginTurn, OgaResult*, (OgaRequest*, const OgaTurnOptions*, const int32_t*, uint64_t, uint64_t*)) \
  X(OgaRequestClose, OgaResult*, (OgaRequest*))                                                                 \
  X(OgaCreateEngineEventBuffer, OgaResult*, (OgaEngine*, size_t, OgaEngineEventBuffer**))                      \
  X(OgaDestroyEngineEventBuffer, void, (OgaEngineEventBuffer*))                                                 \
  X(OgaEngineRun, OgaResult*, (OgaEngine*, OgaEngineEventBuffer*))                                              \
  X(OgaEngineEventBufferGetCount, size_t, (const OgaEngineEventBuffer*))                                        \
  X(OgaEngineEventBufferGet, const OgaEngineEvent*, (const OgaEngineEventBuffer*, size_t))                     \
  X(OgaEngineEventGetFlags, OgaResult*, (const OgaEngineEvent*, uint32_t*))                                     \
  X(OgaEngineEventGetRequest, OgaResult*, (const OgaEngineEvent*, const OgaRequest**))                          \
  X(OgaEngineEventGetToken, OgaResult*, (const OgaEngineEvent*, int32_t*))                                      \
  X(OgaEngineEventGetFinishReason, OgaResult*, (const OgaEngineEvent*, uint32_t*))                              \
  X(OgaEngineEventGetErrorCode, OgaResult*, (const OgaEngineEvent*, uint32_t*))
