// The market's Go runtime JSON as Go structs, transcribed from docs/go-wire.md:
// every key, its Go type, and `omitempty` exactly where the doc says "omit when empty". Go's time fields are
// time.Time (a *time.Time where the key is omitted when empty, as a struct is never empty to `omitempty`),
// durations in nanoseconds are time.Duration. Keys the doc does not list are not declared: they are
// market-runtime's additive keys, which a Go client ignores.
//
// Two choices where the doc leaves the Go type open:
//   - app_states[*].metadata is a map in Go holding `status`; it is declared as a struct with that status so
//     the decoder checks the status's keys and types (a map would take anything).
//   - metadata.status times (updateTime, statusTime, lastTransitionTime, an entrance's statusTime) are
//     strings: the doc has "" for the zero time, which a time.Time cannot decode.
package main

import "time"

// Envelope is every answer of /state: {success, message, data}; Go omits data on errors.
type Envelope struct {
	Success bool             `json:"success"`
	Message string           `json:"message"`
	Data    *RuntimeSnapshot `json:"data,omitempty"`
}

type RuntimeSnapshot struct {
	Timestamp  time.Time                   `json:"timestamp"`
	AppStates  map[string]*AppFlowState    `json:"app_states"`
	Tasks      map[string]*TaskState       `json:"tasks"`
	Components map[string]*ComponentStatus `json:"components"`
	ChartRepo  *ChartRepoStatus            `json:"chart_repo,omitempty"`
	Summary    Summary                     `json:"summary"`
}

type Summary struct {
	TotalApps        int `json:"total_apps"`
	TotalTasks       int `json:"total_tasks"`
	PendingTasks     int `json:"pending_tasks"`
	RunningTasks     int `json:"running_tasks"`
	CompletedTasks   int `json:"completed_tasks"`
	FailedTasks      int `json:"failed_tasks"`
	HealthyApps      int `json:"healthy_apps"`
	UnhealthyApps    int `json:"unhealthy_apps"`
	ActiveComponents int `json:"active_components"`
}

// AppFlowState is app_states[user_id:source_id:app_name].
type AppFlowState struct {
	AppID       string       `json:"app_id"`
	AppName     string       `json:"app_name"`
	UserID      string       `json:"user_id"`
	SourceID    string       `json:"source_id"`
	Stage       string       `json:"stage"`
	StageDetail string       `json:"stage_detail,omitempty"`
	Version     string       `json:"version,omitempty"`
	CfgType     string       `json:"cfg_type,omitempty"`
	Health      string       `json:"health,omitempty"`
	LastUpdate  time.Time    `json:"last_update"`
	Metadata    *AppMetadata `json:"metadata,omitempty"`
}

type AppMetadata struct {
	Status *AppStatus `json:"status,omitempty"`
}

// AppStatus is the market's AppStateLatestData.status.
type AppStatus struct {
	Name               string      `json:"name"`
	RawAppName         string      `json:"rawAppName"`
	AppID              string      `json:"appid,omitempty"`
	IsSysApp           bool        `json:"isSysApp"`
	Owner              string      `json:"owner,omitempty"`
	Icon               string      `json:"icon,omitempty"`
	Source             string      `json:"source,omitempty"`
	Title              string      `json:"title"`
	State              string      `json:"state"`
	UpdateTime         string      `json:"updateTime"`
	StatusTime         string      `json:"statusTime"`
	LastTransitionTime string      `json:"lastTransitionTime"`
	Progress           string      `json:"progress,omitempty"`
	OpType             string      `json:"opType,omitempty"`
	Message            string      `json:"message,omitempty"`
	Reason             string      `json:"reason,omitempty"`
	EntranceStatuses   []*Entrance `json:"entranceStatuses"`
	SharedEntrances    []*Entrance `json:"sharedEntrances,omitempty"`
}

type Entrance struct {
	Name            string `json:"name"`
	Port            int    `json:"port"`
	Invisible       bool   `json:"invisible"`
	ID              string `json:"id,omitempty"`
	Host            string `json:"host,omitempty"`
	Icon            string `json:"icon,omitempty"`
	Title           string `json:"title,omitempty"`
	AuthLevel       string `json:"authLevel,omitempty"`
	URL             string `json:"url,omitempty"`
	OpenMethod      string `json:"openMethod,omitempty"`
	WindowPushState bool   `json:"windowPushState,omitempty"`
	Skip            bool   `json:"skip,omitempty"`
	State           string `json:"state,omitempty"`
	StatusTime      string `json:"statusTime,omitempty"`
	Reason          string `json:"reason,omitempty"`
}

// TaskState is tasks[task_id].
type TaskState struct {
	TaskID      string                 `json:"task_id"`
	Type        string                 `json:"type"`
	Status      string                 `json:"status"`
	AppName     string                 `json:"app_name"`
	UserID      string                 `json:"user_id,omitempty"`
	OpID        string                 `json:"op_id,omitempty"`
	Progress    int                    `json:"progress,omitempty"`
	CreatedAt   time.Time              `json:"created_at"`
	StartedAt   *time.Time             `json:"started_at,omitempty"`
	CompletedAt *time.Time             `json:"completed_at,omitempty"`
	Result      string                 `json:"result,omitempty"`
	ErrorMsg    string                 `json:"error_msg,omitempty"`
	Metadata    map[string]interface{} `json:"metadata,omitempty"`
}

// ComponentStatus is components[name]; the metric keys per component are a free map in Go.
type ComponentStatus struct {
	Name      string                 `json:"name"`
	Healthy   bool                   `json:"healthy"`
	Status    string                 `json:"status"`
	Metrics   map[string]interface{} `json:"metrics,omitempty"`
	LastCheck time.Time              `json:"last_check"`
	Message   string                 `json:"message,omitempty"`
}

type ChartRepoStatus struct {
	System     *ChartRepoSystem  `json:"system,omitempty"`
	Apps       []*ChartRepoApp   `json:"apps,omitempty"`
	Images     []*ChartRepoImage `json:"images,omitempty"`
	Tasks      *ChartRepoTasks   `json:"tasks,omitempty"`
	LastUpdate time.Time         `json:"last_update"`
}

type ChartRepoSystem struct {
	Uptime        int64                  `json:"uptime,omitempty"`
	Version       string                 `json:"version,omitempty"`
	Components    map[string]interface{} `json:"components,omitempty"`
	ResourceUsage map[string]interface{} `json:"resource_usage,omitempty"`
	Hostname      string                 `json:"hostname,omitempty"`
}

type ChartRepoApp struct {
	AppID       string               `json:"app_id"`
	AppName     string               `json:"app_name"`
	UserID      string               `json:"user_id"`
	SourceID    string               `json:"source_id"`
	State       string               `json:"state"`
	CurrentStep *ChartRepoStep       `json:"current_step,omitempty"`
	Processing  *ChartRepoProcessing `json:"processing,omitempty"`
	Timestamps  *ChartRepoTimestamps `json:"timestamps,omitempty"`
	Error       *ChartRepoError      `json:"error,omitempty"`
	LastUpdate  time.Time            `json:"last_update"`
}

type ChartRepoStep struct {
	Name       string    `json:"name"`
	Index      int       `json:"index"`
	Total      int       `json:"total"`
	Status     string    `json:"status"`
	StartedAt  time.Time `json:"started_at"`
	UpdatedAt  time.Time `json:"updated_at"`
	RetryCount int       `json:"retry_count"`
}

type ChartRepoProcessing struct {
	TaskID   string `json:"task_id"`
	Duration int64  `json:"duration"` // the number as the Chart Repo sent it
}

type ChartRepoTimestamps struct {
	CreatedAt     time.Time `json:"created_at"`
	LastUpdatedAt time.Time `json:"last_updated_at"`
}

type ChartRepoError struct {
	Message string `json:"message"`
	Step    string `json:"step,omitempty"`
}

type ChartRepoImage struct {
	ImageName        string       `json:"image_name"`
	AppID            string       `json:"app_id,omitempty"`
	AppName          string       `json:"app_name,omitempty"`
	Status           string       `json:"status"`
	Architecture     string       `json:"architecture,omitempty"`
	TotalSize        int64        `json:"total_size,omitempty"`
	DownloadedSize   int64        `json:"downloaded_size,omitempty"`
	DownloadProgress float64      `json:"download_progress,omitempty"`
	LayerCount       int          `json:"layer_count,omitempty"`
	DownloadedLayers int          `json:"downloaded_layers,omitempty"`
	AnalysisStatus   string       `json:"analysis_status,omitempty"`
	AnalyzedAt       *time.Time   `json:"analyzed_at,omitempty"`
	ErrorMessage     string       `json:"error_message,omitempty"`
	Nodes            []*ImageNode `json:"nodes,omitempty"`
	LastUpdate       time.Time    `json:"last_update"`
}

type ImageNode struct {
	NodeName         string  `json:"node_name"`
	Architecture     string  `json:"architecture,omitempty"`
	OS               string  `json:"os,omitempty"`
	TotalSize        int64   `json:"total_size,omitempty"`
	DownloadedSize   int64   `json:"downloaded_size,omitempty"`
	LayerCount       int     `json:"layer_count,omitempty"`
	DownloadedLayers int     `json:"downloaded_layers,omitempty"`
	Progress         float64 `json:"progress,omitempty"`
}

type ChartRepoTasks struct {
	Hydrator      *HydratorStatus      `json:"hydrator,omitempty"`
	ImageAnalyzer *ImageAnalyzerStatus `json:"image_analyzer,omitempty"`
}

type HydratorStatus struct {
	QueueLength    int             `json:"queue_length"`
	ActiveTasks    int             `json:"active_tasks"`
	CompletedTasks int             `json:"completed_tasks"`
	FailedTasks    int             `json:"failed_tasks"`
	WorkerCount    int             `json:"worker_count"`
	Tasks          []*HydratorTask `json:"tasks,omitempty"`
	RecentFailed   []*HydratorTask `json:"recent_failed,omitempty"`
}

type HydratorTask struct {
	TaskID     string    `json:"task_id"`
	UserID     string    `json:"user_id"`
	SourceID   string    `json:"source_id"`
	AppID      string    `json:"app_id"`
	AppName    string    `json:"app_name"`
	Status     string    `json:"status"`
	StepName   string    `json:"step_name"`
	TotalSteps int       `json:"total_steps"`
	RetryCount int       `json:"retry_count"`
	LastError  string    `json:"last_error,omitempty"`
	CreatedAt  time.Time `json:"created_at"`
	UpdatedAt  time.Time `json:"updated_at"`
}

type ImageAnalyzerStatus struct {
	IsRunning           bool            `json:"is_running"`
	HealthStatus        string          `json:"health_status"`
	LastCheck           time.Time       `json:"last_check"`
	QueueLength         int             `json:"queue_length"`
	ActiveWorkers       int             `json:"active_workers"`
	CachedImages        int             `json:"cached_images"`
	AnalyzingCount      int             `json:"analyzing_count"`
	QueuedTasks         []*AnalysisTask `json:"queued_tasks,omitempty"`
	ProcessingTasks     []*AnalysisTask `json:"processing_tasks,omitempty"`
	RecentCompleted     []*AnalysisTask `json:"recent_completed,omitempty"`
	RecentFailed        []*AnalysisTask `json:"recent_failed,omitempty"`
	TotalAnalyzed       int             `json:"total_analyzed"`
	SuccessfulAnalyzed  int             `json:"successful_analyzed"`
	FailedAnalyzed      int             `json:"failed_analyzed"`
	AverageAnalysisTime time.Duration   `json:"average_analysis_time"`
	ErrorMessage        string          `json:"error_message,omitempty"`
}

type AnalysisTask struct {
	TaskID        string        `json:"task_id"`
	AppName       string        `json:"app_name"`
	AppDir        string        `json:"app_dir"`
	Status        string        `json:"status"`
	CreatedAt     time.Time     `json:"created_at"`
	StartedAt     *time.Time    `json:"started_at,omitempty"`
	CompletedAt   *time.Time    `json:"completed_at,omitempty"`
	WorkerID      int           `json:"worker_id,omitempty"`
	Duration      time.Duration `json:"duration,omitempty"`
	ImagesCount   int           `json:"images_count"`
	AnalyzedCount int           `json:"analyzed_count,omitempty"`
	Error         string        `json:"error,omitempty"`
	ErrorStep     string        `json:"error_step,omitempty"`
	Images        []string      `json:"images,omitempty"`
}

// The change stream is market-runtime's own (Go has none): these wrappers only carry Go's items above.

// ChangeEvent is a `change` event's data: each upserted item is the snapshot's item, Go's struct.
type ChangeEvent struct {
	Timestamp time.Time        `json:"timestamp"`
	Upserts   ChangeUpserts    `json:"upserts"`
	ChartRepo *ChartRepoChange `json:"chart_repo,omitempty"`
	Summary   Summary          `json:"summary"`
}

type ChangeUpserts struct {
	AppStates  map[string]*AppFlowState    `json:"app_states,omitempty"`
	Tasks      map[string]*TaskState       `json:"tasks,omitempty"`
	Components map[string]*ComponentStatus `json:"components,omitempty"`
}

type ChartRepoChange struct {
	Frame   *ChartRepoStatus `json:"frame,omitempty"`
	Upserts ChartRepoUpserts `json:"upserts"`
}

type ChartRepoUpserts struct {
	Apps          map[string]*ChartRepoApp   `json:"apps,omitempty"`
	Images        map[string]*ChartRepoImage `json:"images,omitempty"`
	HydratorTasks map[string]*HydratorTask   `json:"hydrator_tasks,omitempty"`
}

// SummaryEvent is a `?view=summary` event's data (snapshot or change): {version, timestamp, summary}.
type SummaryEvent struct {
	Timestamp time.Time `json:"timestamp"`
	Summary   Summary   `json:"summary"`
}
