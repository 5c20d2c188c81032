// The ORT-GenAI C API, reached through function pointers looked up at run time.
// We never link against libonnxruntime-genai: the library is dlopen'ed from a path that src/runtime.ts chooses,
// after ONNX Runtime itself, so a missing or mismatched library is a JS error instead of a loader failure.
#pragma once

#include <string>

#include "ort_genai_c.h"

// Every C API function the addon calls. Adding a call to the binding means adding its name here.
#define OGA_API_FUNCTIONS(X)                      \
  X(OgaShutdown)                                  \
  X(OgaResultGetError)                            \
  X(OgaDestroyResult)                             \
  X(OgaDestroyString)                             \
  X(OgaSetLogBool)                                \
  X(OgaSetLogString)                              \
  X(OgaSetLogCallback)                            \
  X(OgaCreateSequences)                           \
  X(OgaDestroySequences)                          \
  X(OgaSequencesCount)                            \
  X(OgaAppendTokenSequence)                       \
  X(OgaSequencesGetSequenceCount)                 \
  X(OgaSequencesGetSequenceData)                  \
  X(OgaCreateConfig)                              \
  X(OgaDestroyConfig)                             \
  X(OgaConfigClearProviders)                      \
  X(OgaConfigAppendProvider)                      \
  X(OgaConfigSetProviderOption)                   \
  X(OgaConfigOverlay)                             \
  X(OgaCreateModel)                               \
  X(OgaCreateModelFromConfig)                     \
  X(OgaModelGetType)                              \
  X(OgaModelGetDeviceType)                        \
  X(OgaDestroyModel)                              \
  X(OgaCreateGeneratorParams)                     \
  X(OgaDestroyGeneratorParams)                    \
  X(OgaGeneratorParamsSetSearchNumber)            \
  X(OgaGeneratorParamsSetSearchBool)              \
  X(OgaGeneratorParamsGetSearchNumber)            \
  X(OgaGeneratorParamsGetSearchBool)              \
  X(OgaGeneratorParamsSetGuidance)                \
  X(OgaCreateGenerator)                           \
  X(OgaDestroyGenerator)                          \
  X(OgaGenerator_IsDone)                          \
  X(OgaGenerator_IsSessionTerminated)             \
  X(OgaGenerator_AppendTokenSequences)            \
  X(OgaGenerator_AppendTokens)                    \
  X(OgaGenerator_TokenCount)                      \
  X(OgaGenerator_GenerateNextToken)               \
  X(OgaGenerator_GetNextTokens)                   \
  X(OgaGenerator_SetRuntimeOption)                \
  X(OgaGenerator_RewindTo)                        \
  X(OgaGenerator_GetLogits)                       \
  X(OgaGenerator_GetOutput)                       \
  X(OgaGenerator_SetModelInput)                   \
  X(OgaGenerator_SetLogits)                       \
  X(OgaGenerator_GetSequenceCount)                \
  X(OgaGenerator_GetSequenceData)                 \
  X(OgaCreateTokenizer)                           \
  X(OgaDestroyTokenizer)                          \
  X(OgaTokenizerGetBosTokenId)                    \
  X(OgaTokenizerGetEosTokenIds)                   \
  X(OgaTokenizerGetPadTokenId)                    \
  X(OgaTokenizerGetBotTokenId)                    \
  X(OgaTokenizerGetEotTokenId)                    \
  X(OgaTokenizerGetBorTokenId)                    \
  X(OgaTokenizerGetEorTokenId)                    \
  X(OgaUpdateTokenizerOptions)                    \
  X(OgaTokenizerEncode)                           \
  X(OgaTokenizerEncodeBatch)                      \
  X(OgaTokenizerDecodeBatch)                      \
  X(OgaTokenizerToTokenId)                        \
  X(OgaTokenizerDecode)                           \
  X(OgaTokenizerApplyChatTemplate)                \
  X(OgaCreateTokenizerStream)                     \
  X(OgaDestroyTokenizerStream)                    \
  X(OgaTokenizerStreamDecode)                     \
  X(OgaCreateTensorFromBuffer)                    \
  X(OgaDestroyTensor)                             \
  X(OgaTensorGetType)                             \
  X(OgaTensorGetShapeRank)                        \
  X(OgaTensorGetShape)                            \
  X(OgaTensorGetData)                             \
  X(OgaDestroyStringArray)                        \
  X(OgaStringArrayGetCount)                       \
  X(OgaStringArrayGetString)                      \
  X(OgaCreateAdapters)                            \
  X(OgaDestroyAdapters)                           \
  X(OgaLoadAdapter)                               \
  X(OgaUnloadAdapter)                             \
  X(OgaSetActiveAdapter)

// The Engine API, which 0.16 redesigned, so each release has one of two sets and these may be missing: a missing
// one is a null pointer, and Engine.create says which version lacks what (EngineApiOf).
// Common to both designs.
#define OGA_ENGINE_FUNCTIONS(X)                   \
  X(OgaCreateEngine)                              \
  X(OgaDestroyEngine)                             \
  X(OgaEngineHasPendingRequests)                  \
  X(OgaDestroyRequest)

// 0.15: OgaEngineStep hands back one ready request, whose tokens are read with OgaRequestGetUnseenToken.
#define OGA_ENGINE_STEP_FUNCTIONS(X)              \
  X(OgaEngineStep)                                \
  X(OgaEngineAddRequest)                          \
  X(OgaEngineRemoveRequest)                       \
  X(OgaCreateRequest)                             \
  X(OgaRequestAddTokens)                          \
  X(OgaRequestHasUnseenTokens)                    \
  X(OgaRequestGetUnseenToken)                     \
  X(OgaRequestIsDone)

#include "engine_events_api.h"

namespace oga {

struct Api {
#define OGA_DECLARE_POINTER(name) decltype(&::name) name = nullptr;
  OGA_API_FUNCTIONS(OGA_DECLARE_POINTER)
  OGA_ENGINE_FUNCTIONS(OGA_DECLARE_POINTER)
  OGA_ENGINE_STEP_FUNCTIONS(OGA_DECLARE_POINTER)
#undef OGA_DECLARE_POINTER
#define OGA_DECLARE_TYPED_POINTER(name, ret, params) ret(*name) params = nullptr;
  OGA_ENGINE_EVENT_FUNCTIONS(OGA_DECLARE_TYPED_POINTER)
#undef OGA_DECLARE_TYPED_POINTER
};

// The process-wide table; valid only after Load() succeeded. dlopen state is per process, so every
// worker_thread's copy of the addon shares it.
extern Api api;

// Loads ONNX Runtime (RTLD_GLOBAL, so ORT-GenAI's own dlopen("libonnxruntime.so.1") finds it) and then
// ORT-GenAI, and resolves the table. Idempotent; returns "" on success or a message for the user.
std::string Load(const std::string& ort_path, const std::string& genai_path);
bool IsLoaded();
// Paths actually loaded (empty until Load succeeded).
std::string LoadedOrtPath();
std::string LoadedGenAIPath();
// ORT-GenAI's version as the loaded file states it ("0.15.2"), or "" when the file does not say. The C API has no
// version call, so this is what version-dependent guards (library bugs fixed in later releases) are keyed on.
std::string LoadedGenAIVersion();
// Whether the loaded ORT-GenAI is older than major.minor; an unknown version counts as older, so guards stay on.
bool GenAIOlderThan(int major, int minor);
// "0.15.2", or "(unknown version)", for messages.
std::string GenAIVersionName();
// Which Engine API the loaded library has: the 0.15 one (OgaEngineStep), the 0.16+ one (OgaEngineRun, event
// buffers, request and turn options), or neither (then *missing says what it lacks, for the message).
enum class EngineApi { None, Step, Events };
EngineApi EngineApiOf(std::string* missing);

}  // namespace oga
